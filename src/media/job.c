/*
 * job.c — see job.h.
 */
#include "media/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libavutil/log.h>

#include "core/jsonx.h"
#include "core/util.h"
#include "media/detect.h"
#include "media/probe.h"
#include "media/render.h"
#include "media/sandbox.h"

#define EXIT_REFUSED 3
#define EXIT_FAILED  4

static const char *arg(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int64_t arg_i64(int argc, char **argv, const char *name, int64_t deflt)
{
	int64_t v;
	const char *s = arg(argc, argv, name);
	return s && parse_i64(s, &v) ? v : deflt;
}

static void emit(json_t *j)
{
	char *s = jx_dump(j);
	fputs(s, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	free(s);
	json_decref(j);
}

/* Overall progress: probe 0–5, thumbnail 5–10, proxy 10–60 (when needed), highlights → 100. */
typedef struct {
	int lo, hi;
	const char *stage;
	int last;
} band_t;

static void report(band_t *b, int pct)
{
	int v = b->lo + (b->hi - b->lo) * pct / 100;
	if (v == b->last)
		return;
	b->last = v;
	emit(json_pack("{s:i, s:s}", "progress", v, "stage", b->stage));
}

static void on_render(void *ctx, int pct)
{
	report(ctx, pct);
}

static void on_detect(void *ctx, int pct, const char *stage)
{
	(void)stage;
	report(ctx, pct);
}

static int refuse(const char *file, const err_t *e, int code)
{
	(void)file;
	fprintf(stderr, "cosmiv: %s\n", e->detail);
	return code;
}

static int process(int argc, char **argv)
{
	const char *in = arg(argc, argv, "--in"), *out = arg(argc, argv, "--out");
	if (!in || !out) {
		fprintf(stderr, "cosmiv: media-job process needs --in FILE --out DIR\n");
		return 2;
	}
	media_sandbox_limits_t lim = {
	    .memory_bytes = arg_i64(argc, argv, "--memory", 3LL << 30),
	    .cpu_s = (int)arg_i64(argc, argv, "--cpu", 3600),
	    .file_bytes = 64LL << 30,
	};
	err_t e;
	if (!media_sandbox_enter(&lim, &e))
		return refuse(in, &e, EXIT_FAILED);
	uint64_t t0 = time_mono_ns();
	band_t band = {0, 5, "probe", -1};
	report(&band, 0);
	media_limits_t ml;
	media_limits_default(&ml);
	ml.max_duration_s = (double)arg_i64(argc, argv, "--max-duration", (int64_t)ml.max_duration_s);
	ml.max_file_bytes = arg_i64(argc, argv, "--max-bytes", ml.max_file_bytes);
	media_info_t info;
	if (!media_probe(in, &ml, &info, &e))
		return refuse(in, &e, EXIT_REFUSED);
	if (!info.has_video) {
		err_set(&e, ERR_INVALID, "no_video", NULL, "no video stream: this is an audio-only file");
		return refuse(in, &e, EXIT_REFUSED);
	}
	double probe_ms = (double)(time_mono_ns() - t0) / 1e6;
	char *thumb = xasprintf("%s/thumb.jpg", out), *web = xasprintf("%s/web.mp4", out);
	int rc = EXIT_REFUSED;
	band = (band_t){5, 10, "thumbnail", -1};
	report(&band, 0);
	t0 = time_mono_ns();
	double at = info.duration_s > 6 ? 3.0 : info.duration_s / 2;
	if (!media_thumbnail(in, thumb, at, 640, &e))
		goto out;
	double thumb_ms = (double)(time_mono_ns() - t0) / 1e6;
	double web_ms = 0;
	bool playable = media_probe_is_web_playable(&info);
	if (!playable) {
		band = (band_t){10, 60, "web version", -1};
		media_progress_t p = {on_render, &band};
		t0 = time_mono_ns();
		if (!media_transcode_web(in, web, &p, &e))
			goto out;
		web_ms = (double)(time_mono_ns() - t0) / 1e6;
	}
	band = (band_t){playable ? 10 : 60, 99, "highlights", -1};
	media_model_t model;
	if (!media_model_for_game(arg(argc, argv, "--game"), &model, &e))
		goto out;
	media_detect_opts_t dopts = {.progress = on_detect, .progress_ctx = &band, .model = &model};
	media_result_t res;
	if (!media_detect_highlights(in, &dopts, &res, &e))
		goto out;
	json_t *hls = json_array();
	for (size_t i = 0; i < res.n_highlights; i++) {
		const media_highlight_t *h = &res.highlights[i];
		json_t *reasons = json_array();
		for (size_t k = 0; k < h->n_reasons; k++)
			json_array_append_new(reasons, json_string(h->reasons[k]));
		json_array_append_new(hls, json_pack("{s:f, s:f, s:f, s:o}", "start_s", h->start_s, "end_s",
						     h->end_s, "score", h->score, "reasons", reasons));
	}
	json_t *timings =
	    json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "probe", probe_ms, "thumbnail", thumb_ms, "transcode",
		      web_ms, "decode", res.timings_ms.decode, "features", res.timings_ms.features, "scoring",
		      res.timings_ms.scoring + res.timings_ms.refine);
	json_t *ij = json_pack("{s:f, s:i, s:i, s:i, s:i, s:f, s:s, s:s, s:s, s:b}", "duration_s",
			       info.duration_s, "width", info.width, "height", info.height, "display_width",
			       info.display_width, "display_height", info.display_height, "fps", info.fps,
			       "container", info.container, "video_codec", info.video_codec, "audio_codec",
			       info.audio_codec, "web_playable", playable);
	emit(json_pack("{s:{s:o, s:s, s:o, s:o}}", "result", "info", ij, "model", res.model_version,
		       "highlights", hls, "timings_ms", timings));
	media_result_free(&res);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "cosmiv: %s\n", e.detail);
	free(thumb);
	free(web);
	return rc;
}

static void on_clip_progress(void *ctx, int pct)
{
	report(ctx, pct);
}

static int clip(int argc, char **argv)
{
	const char *in = arg(argc, argv, "--in"), *out = arg(argc, argv, "--out");
	const char *aspect = arg(argc, argv, "--aspect"), *fill = arg(argc, argv, "--fill");
	const char *ss = arg(argc, argv, "--start"), *es = arg(argc, argv, "--end");
	char *end1 = NULL, *end2 = NULL;
	double start = ss ? strtod(ss, &end1) : -1, end = es ? strtod(es, &end2) : -1;
	if (!in || !out || !aspect || !ss || !es || *end1 || *end2) {
		fprintf(stderr, "cosmiv: media-job clip needs --in --out --start --end --aspect\n");
		return 2;
	}
	media_sandbox_limits_t lim = {
	    .memory_bytes = arg_i64(argc, argv, "--memory", 3LL << 30),
	    .cpu_s = (int)arg_i64(argc, argv, "--cpu", 3600),
	    .file_bytes = 16LL << 30,
	};
	err_t e;
	if (!media_sandbox_enter(&lim, &e))
		return refuse(in, &e, EXIT_FAILED);
	band_t band = {0, 100, "render", -1};
	media_progress_t p = {on_clip_progress, &band};
	media_clip_req_t req = {.in_path = in,
				.out_path = out,
				.start_s = start,
				.end_s = end,
				.aspect = aspect,
				.fill = fill,
				.watermark = arg_i64(argc, argv, "--watermark", 0) != 0,
				.progress = &p};
	media_clip_result_t res;
	if (!media_render_clip(&req, &res, &e))
		return refuse(in, &e, EXIT_REFUSED);
	/* the poster frame for feeds: a third of the way in, from the rendered clip itself */
	const char *thumb = arg(argc, argv, "--thumb");
	bool has_thumb = thumb && media_thumbnail(out, thumb, res.duration_s / 3.0, 480, &e);
	emit(json_pack("{s:{s:i, s:i, s:f, s:b, s:b, s:{s:f}}}", "result", "width", res.width, "height",
		       res.height, "duration_s", res.duration_s, "copied", res.copied, "thumb", has_thumb,
		       "timings_ms", "render", (double)res.ms));
	return 0;
}

int media_job_main(int argc, char **argv)
{
	av_log_set_level(AV_LOG_ERROR); /* stderr carries the reason of a failure: keep it readable */
	if (argc >= 2 && strcmp(argv[1], "process") == 0)
		return process(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "clip") == 0)
		return clip(argc - 1, argv + 1);
	fprintf(stderr, "cosmiv: media-job: unknown job (this command is run by the server)\n");
	return 2;
}
