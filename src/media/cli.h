/*
 * cli.h — the detector's subcommands of the `cosmiv` program.
 *
 *   cosmiv highlights FILE [--model M] [--no-refine] [--refine-budget F] [--verbose]
 *       one JSON object on stdout: duration, size, fps, model version, stage
 *       timings and the ranked highlights with their reasons. Errors:
 *       "cosmiv: FILE: reason" on stderr and exit status 1; usage errors 2.
 *   cosmiv eval MANIFEST [--json] [--model M] [--iou X] [--no-refine] [--refine-budget F]
 *       runs the detector on every video of a labelled manifest and prints
 *       precision, recall, F1 and AP per video and overall (mAP: the AP of
 *       all predictions pooled and ranked by score, one class, VOC-style).
 *   cosmiv fit MANIFEST --out FILE [--from M] [--version V] [--fast]
 *       re-fits the model's weights on a labelled manifest and writes a new
 *       model.json.
 *
 * Each takes argv[0] = the subcommand's name. stdout carries only the
 * result; progress (a bar, when stderr is a terminal) and diagnostics go to
 * stderr.
 */
#ifndef COSMIV_MEDIA_CLI_H
#define COSMIV_MEDIA_CLI_H

int media_cli_highlights(int argc, char **argv);
int media_cli_eval(int argc, char **argv);
int media_cli_fit(int argc, char **argv);

#endif
