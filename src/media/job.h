/*
 * job.h — the child side of media jobs: `cosmiv media-job …`, run by
 * media_sandbox_run (sandbox.h), never by people.
 *
 *   media-job process --in FILE --out DIR --max-duration S --max-bytes B
 *                     --memory BYTES --cpu SECONDS
 *
 * Confines itself (media_sandbox_enter), then probes and validates, writes
 * DIR/thumb.jpg, DIR/web.mp4 when the source is not web-playable, and finds
 * the highlights. Progress and the result are JSON lines on stdout:
 *   {"progress":42,"stage":"highlights"}
 *   {"result":{"info":{…},"model":"…","highlights":[…],"timings_ms":{…}}}
 * A refused input exits 3 with "cosmiv: <reason>" on stderr.
 */
#ifndef COSMIV_MEDIA_JOB_H
#define COSMIV_MEDIA_JOB_H

int media_job_main(int argc, char **argv);

#endif
