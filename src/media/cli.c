/*
 * cli.c — `cosmiv highlights`, `cosmiv eval` and `cosmiv fit` (see cli.h).
 *
 * What: thin command-line front ends over detect.h: argument parsing, a
 * progress bar, JSON and table output. No detection logic lives here.
 *
 * Why stdout is sacred: `cosmiv highlights` is called by scripts and by the
 * job worker, which parse stdout as one JSON object. So FFmpeg's own log is
 * silenced (--verbose brings its warnings back, on stderr), the progress bar
 * is drawn only when stderr is a terminal, and every failure is one line
 * "cosmiv: FILE: reason" on stderr with a non-zero exit status.
 */
#include "media/cli.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "core/util.h"
#include "media/detect.h"

/* ==== Shared helpers ==== */

static void progress_bar(void *ctx, int percent, const char *stage)
{
	(void)ctx;
	char bar[31];
	int fill = percent * 30 / 100;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r%-7s [%s] %3d%%", stage, bar, percent);
	if (percent >= 100)
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (errno || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int usage_error(const char *cmd, const char *msg, const char *usage)
{
	fprintf(stderr, "cosmiv %s: %s\nusage: cosmiv %s\n", cmd, msg, usage);
	return 2;
}

static json_t *jnum(double x, int decimals)
{
	double p = pow(10, decimals);
	return json_real(round(x * p) / p);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "dir/manifest.json" of a path: enough to tell training sets apart. */
static const char *parent_and_base(const char *p)
{
	const char *b = base_name(p);
	if (b == p || b - p < 2)
		return b;
	const char *s = b - 2;
	while (s > p && *s != '/')
		s--;
	return *s == '/' ? s + 1 : s;
}

typedef struct {
	const char *model_path;
	double refine_budget;
	bool decode_all;
	bool verbose;
	bool json;
	double iou;
	const char *out;
	const char *from;
	const char *version;
	bool fast;
	const char *dump;
	const char *input;
	const char *game; /* --game: the model compiled in for it, if any */
} cli_opts_t;

/* Parses the options every subcommand shares; returns 0 or an exit status. */
static int parse_args(int argc, char **argv, const char *usage, cli_opts_t *o)
{
	const char *cmd = argv[0];
	memset(o, 0, sizeof(*o));
	o->iou = 0.5;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if (strcmp(a, "--model") == 0 && v)
			o->model_path = v;
		else if (strcmp(a, "--game") == 0 && v)
			o->game = v;
		else if (strcmp(a, "--refine-budget") == 0 && v) {
			if (!parse_double(v, 0.0001, 1, &o->refine_budget))
				return usage_error(cmd, "--refine-budget takes a share of frames in (0, 1]",
						   usage);
		} else if (strcmp(a, "--iou") == 0 && v) {
			if (!parse_double(v, 0.01, 1, &o->iou))
				return usage_error(cmd, "--iou takes a number in (0, 1]", usage);
		} else if (strcmp(a, "--out") == 0 && v)
			o->out = v;
		else if (strcmp(a, "--from") == 0 && v)
			o->from = v;
		else if (strcmp(a, "--version") == 0 && v)
			o->version = v;
		else if (strcmp(a, "--dump-features") == 0 && v)
			o->dump = v;
		else {
			takes = false;
			if (strcmp(a, "--no-refine") == 0)
				o->refine_budget = -1;
			else if (strcmp(a, "--decode-all") == 0)
				o->decode_all = true;
			else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
				o->verbose = true;
			else if (strcmp(a, "--json") == 0)
				o->json = true;
			else if (strcmp(a, "--fast") == 0)
				o->fast = true;
			else if (a[0] == '-' && a[1] != '\0') {
				char msg[160];
				snprintf(msg, sizeof(msg), "unknown option or missing value: %s", a);
				return usage_error(cmd, msg, usage);
			} else if (o->input)
				return usage_error(cmd, "one input only", usage);
			else
				o->input = a;
		}
		if (takes)
			i++;
	}
	if (!o->input)
		return usage_error(cmd, "missing input", usage);
	av_log_set_level(o->verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
	return 0;
}

static bool load_model(const cli_opts_t *o, media_model_t *m, err_t *e)
{
	return o->model_path ? media_model_load(o->model_path, m, e) : media_model_for_game(o->game, m, e);
}

/* ==== highlights ==== */

static json_t *result_json(const media_result_t *r)
{
	json_t *hs = json_array();
	for (size_t i = 0; i < r->n_highlights; i++) {
		const media_highlight_t *h = &r->highlights[i];
		json_t *reasons = json_array();
		for (size_t j = 0; j < h->n_reasons; j++)
			json_array_append_new(reasons, json_string(h->reasons[j]));
		json_array_append_new(hs, json_pack("{s:o, s:o, s:o, s:o}", "start_s", jnum(h->start_s, 2),
						    "end_s", jnum(h->end_s, 2), "score", jnum(h->score, 3),
						    "reasons", reasons));
	}
	json_t *notes = json_array();
	for (size_t i = 0; i < r->n_notes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_t *t =
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "probe", jnum(r->timings_ms.probe, 1), "decode",
		      jnum(r->timings_ms.decode, 1), "features", jnum(r->timings_ms.features, 1), "refine",
		      jnum(r->timings_ms.refine, 1), "scoring", jnum(r->timings_ms.scoring, 1), "total",
		      jnum(r->timings_ms.total, 1));
	return json_pack("{s:o, s:i, s:i, s:o, s:s, s:o, s:o, s:o, s:{s:I, s:I}}", "duration_s",
			 jnum(r->duration_s, 3), "width", r->width, "height", r->height, "fps",
			 jnum(r->fps, 3), "model", r->model_version, "timings_ms", t, "highlights", hs,
			 "notes", notes, "frames", "total", (json_int_t)r->video_packets, "decoded",
			 (json_int_t)r->frames_decoded);
}

static bool dump_features(const char *path, const media_features_t *f, err_t *e)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return err_set(e, ERR_UNAVAILABLE, "unwritable", NULL, "cannot write %s", path);
	fprintf(fp, "t");
	for (int k = 0; k < MEDIA_NFEAT; k++)
		fprintf(fp, "\t%s", media_feature_names[k]);
	fprintf(fp, "\tpix_known\tpix_motion\tpix_cuts\tpix_flash\n");
	for (size_t i = 0; i < f->n; i++) {
		fprintf(fp, "%.2f", (i + 0.5) * MEDIA_STEP_S);
		for (int k = 0; k < MEDIA_NFEAT; k++)
			fprintf(fp, "\t%.2f", f->raw[i][k]);
		fprintf(fp, "\t%d\t%.2f\t%d\t%d\n", f->pix_known[i], f->pix_motion[i], f->pix_cuts[i],
			f->pix_flash[i]);
	}
	return fclose(fp) == 0 || err_set(e, ERR_UNAVAILABLE, "unwritable", NULL, "cannot write %s", path);
}

int media_cli_highlights(int argc, char **argv)
{
	static const char usage[] =
	    "highlights FILE [--model model.json | --game NAME] [--no-refine] [--refine-budget SHARE] "
	    "[--decode-all] [--dump-features OUT.tsv] [--verbose]";
	cli_opts_t o;
	int rc = parse_args(argc, argv, usage, &o);
	if (rc)
		return rc;
	err_t e = {0};
	media_model_t model;
	if (!load_model(&o, &model, &e)) {
		fprintf(stderr, "cosmiv: %s\n", e.detail);
		return 1;
	}
	media_detect_opts_t opts = {
	    .model = &model, .refine_budget = o.refine_budget, .decode_all = o.decode_all};
	if (isatty(STDERR_FILENO))
		opts.progress = progress_bar;
	media_result_t r;
	if (o.dump) {
		media_features_t f;
		if (!media_extract_features(o.input, &opts, &f, &r, &e)) {
			fprintf(stderr, "cosmiv: %s: %s\n", o.input, e.detail);
			return 1;
		}
		bool ok = dump_features(o.dump, &f, &e);
		media_features_free(&f);
		media_result_free(&r);
		if (!ok) {
			fprintf(stderr, "cosmiv: %s\n", e.detail);
			return 1;
		}
	}
	if (!media_detect_highlights(o.input, &opts, &r, &e)) {
		if (opts.progress)
			fprintf(stderr, "\r\033[K");
		fprintf(stderr, "cosmiv: %s: %s\n", o.input, e.detail);
		return 1;
	}
	json_t *j = result_json(&r);
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(j);
	media_result_free(&r);
	if (!s || puts(s) < 0 || fflush(stdout) != 0) {
		free(s);
		fprintf(stderr, "cosmiv: %s: cannot write the result\n", o.input);
		return 1;
	}
	free(s);
	return 0;
}

/* ==== eval ==== */

typedef struct {
	double *score;
	uint8_t *tp;
	size_t n, cap;
} pool_t;

static void pool_add(pool_t *p, double score, uint8_t tp)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->score = xrealloc(p->score, p->cap * sizeof(double));
		p->tp = xrealloc(p->tp, p->cap);
	}
	p->score[p->n] = score;
	p->tp[p->n++] = tp;
}

static json_t *scores_json(const media_scores_t *s)
{
	return json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "truth", s->n_truth, "predicted", s->n_pred,
			 "tp", s->tp, "precision", jnum(s->precision, 4), "recall", jnum(s->recall, 4), "f1",
			 jnum(s->f1, 4), "ap", jnum(s->ap, 4));
}

int media_cli_eval(int argc, char **argv)
{
	static const char usage[] =
	    "eval MANIFEST.json [--json] [--model model.json | --game NAME] [--iou 0.5] [--no-refine] "
	    "[--refine-budget SHARE] [--decode-all]";
	cli_opts_t o;
	int rc = parse_args(argc, argv, usage, &o);
	if (rc)
		return rc;
	err_t e = {0};
	media_model_t model;
	media_manifest_t man;
	if (!load_model(&o, &model, &e) || !media_manifest_load(o.input, &man, &e)) {
		fprintf(stderr, "cosmiv: %s\n", e.detail);
		return 1;
	}
	media_detect_opts_t opts = {
	    .model = &model, .refine_budget = o.refine_budget, .decode_all = o.decode_all};
	json_t *videos = json_array();
	media_scores_t tot = {0};
	pool_t pool = {0};
	int failures = 0;
	if (!o.json)
		printf("%-34s %5s %5s %4s %9s %7s %6s %6s %8s\n", "video", "truth", "pred", "tp", "precision",
		       "recall", "f1", "AP", "time_s");
	for (size_t v = 0; v < man.n; v++) {
		const media_labelled_t *l = &man.items[v];
		media_result_t r;
		uint64_t t0 = time_mono_ns();
		bool ok = media_detect_highlights(l->video, &opts, &r, &e);
		double secs = (double)(time_mono_ns() - t0) / 1e9;
		media_scores_t s;
		uint8_t *matched = xcalloc(r.n_highlights + 1, 1);
		if (!ok) {
			fprintf(stderr, "cosmiv: %s: %s\n", l->video, e.detail);
			failures++;
		}
		media_match(r.highlights, r.n_highlights, l->truth, l->n_truth, o.iou, &s, matched);
		tot.tp += s.tp;
		tot.n_pred += s.n_pred;
		tot.n_truth += s.n_truth;
		json_t *preds = json_array();
		for (size_t i = 0; i < r.n_highlights; i++) {
			pool_add(&pool, r.highlights[i].score, matched[i]);
			json_array_append_new(preds,
					      json_pack("{s:o, s:o, s:o, s:b}", "start_s",
							jnum(r.highlights[i].start_s, 2), "end_s",
							jnum(r.highlights[i].end_s, 2), "score",
							jnum(r.highlights[i].score, 3), "match", matched[i]));
		}
		if (o.json) {
			json_t *row = scores_json(&s);
			json_object_set_new(row, "video", json_string(base_name(l->video)));
			json_object_set_new(row, "seconds", jnum(secs, 3));
			json_object_set_new(row, "predictions", preds);
			if (!ok)
				json_object_set_new(row, "error", json_string(e.detail));
			json_array_append_new(videos, row);
		} else {
			json_decref(preds);
			printf("%-34.34s %5d %5d %4d %9.3f %7.3f %6.3f %6.3f %8.2f%s\n", base_name(l->video),
			       s.n_truth, s.n_pred, s.tp, s.precision, s.recall, s.f1, s.ap, secs,
			       ok ? "" : "  (failed)");
		}
		free(matched);
		media_result_free(&r);
	}
	tot.precision = tot.n_pred ? (double)tot.tp / tot.n_pred : (tot.n_truth ? 0 : 1);
	tot.recall = tot.n_truth ? (double)tot.tp / tot.n_truth : 1;
	tot.f1 = tot.precision + tot.recall > 0
		     ? 2 * tot.precision * tot.recall / (tot.precision + tot.recall)
		     : 0;
	tot.ap = media_average_precision(pool.score, pool.tp, pool.n, tot.n_truth);
	if (o.json) {
		json_t *ov = scores_json(&tot);
		json_object_set_new(ov, "map", jnum(tot.ap, 4));
		json_object_del(ov, "ap");
		json_object_set_new(ov, "videos", json_integer((json_int_t)man.n));
		json_object_set_new(ov, "failed", json_integer(failures));
		json_t *j = json_pack("{s:s, s:o, s:o, s:o}", "model", model.version, "iou", jnum(o.iou, 3),
				      "videos", videos, "overall", ov);
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		puts(s ? s : "{}");
		free(s);
		json_decref(j);
	} else {
		json_decref(videos);
		char label[64];
		snprintf(label, sizeof(label), "overall (%zu videos)", man.n);
		printf("%-34s %5d %5d %4d %9.3f %7.3f %6.3f %6.3f  mAP, IoU >= %.2f, model %s\n", label,
		       tot.n_truth, tot.n_pred, tot.tp, tot.precision, tot.recall, tot.f1, tot.ap, o.iou,
		       model.version);
	}
	free(pool.score);
	free(pool.tp);
	media_manifest_free(&man);
	return failures ? 1 : 0;
}

/* ==== fit ==== */

static void log_line(const char *line)
{
	fprintf(stderr, "fit: %s\n", line);
}

int media_cli_fit(int argc, char **argv)
{
	static const char usage[] =
	    "fit MANIFEST.json --out model.json [--from model.json] [--version NAME] [--fast]";
	cli_opts_t o;
	int rc = parse_args(argc, argv, usage, &o);
	if (rc)
		return rc;
	if (!o.out)
		return usage_error(argv[0], "--out FILE is required", usage);
	err_t e = {0};
	media_model_t start, fitted;
	media_manifest_t man;
	const char *from = o.from ? o.from : o.model_path;
	if (!(from ? media_model_load(from, &start, &e) : media_model_default(&start, &e)) ||
	    !media_manifest_load(o.input, &man, &e)) {
		fprintf(stderr, "cosmiv: %s\n", e.detail);
		return 1;
	}
	if (man.n == 0) {
		media_manifest_free(&man);
		fprintf(stderr, "cosmiv: %s: no videos to fit on\n", o.input);
		return 1;
	}
	/* every frame's pixels, so the refine stage is simulated exactly (--fast: bitstream only) */
	media_detect_opts_t opts = {.model = &start, .refine_budget = -1, .decode_all = !o.fast};
	media_features_t *feats = xcalloc(man.n, sizeof(*feats));
	int ret = 0;
	for (size_t v = 0; v < man.n && ret == 0; v++) {
		media_result_t meta;
		fprintf(stderr, "fit: analysing %s\n", base_name(man.items[v].video));
		if (!media_extract_features(man.items[v].video, &opts, &feats[v], &meta, &e)) {
			fprintf(stderr, "cosmiv: %s: %s\n", man.items[v].video, e.detail);
			ret = 1;
			break;
		}
		media_result_free(&meta);
	}
	if (ret == 0) {
		media_scores_t tr;
		media_fit(feats, &man, &start, &fitted, &tr, log_line);
		char day[16];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(day, sizeof(day), "%Y%m%d", &tm);
		if (o.version)
			str_copy(fitted.version, sizeof(fitted.version), o.version);
		else
			snprintf(fitted.version, sizeof(fitted.version), "fit-%s-%.40s", day,
				 base_name(o.input));
		snprintf(fitted.trained_on, sizeof(fitted.trained_on), "%.100s (%zu videos)",
			 parent_and_base(o.input), man.n);
		if (!media_model_save(&fitted, o.out, &e)) {
			fprintf(stderr, "cosmiv: %s\n", e.detail);
			ret = 1;
		} else {
			printf("wrote %s: model %s, training F1 %.3f (P %.3f, R %.3f, AP %.3f) on %zu "
			       "videos, %d "
			       "highlights\n",
			       o.out, fitted.version, tr.f1, tr.precision, tr.recall, tr.ap, man.n,
			       tr.n_truth);
		}
	}
	for (size_t v = 0; v < man.n; v++)
		media_features_free(&feats[v]);
	free(feats);
	media_manifest_free(&man);
	return ret;
}
