/*
 * tool.c — `cosmiv media-tool …`: the media library from the command line,
 * for tests, benchmarks and operators. Not used by the server.
 *
 *   media-tool probe FILE [--max-duration S] [--max-width W] [--max-height H]
 *                         [--max-pixels N] [--max-bytes N]
 *   media-tool thumb IN OUT.jpg AT_S [MAX_WIDTH]            (default 640)
 *   media-tool web   IN OUT.mp4
 *   media-tool clip  IN OUT.mp4 START END ASPECT FILL WATERMARK(0|1)
 *
 * Success: one JSON object on stdout, exit 0. Failure: {"error":{"code",
 * "detail","field"}} on stdout, exit 1 (2 for usage errors). Progress of web
 * and clip goes to stderr as {"progress":N} lines.
 *
 * Why a subcommand and not the ffmpeg CLI: the tests must exercise exactly
 * the code the workers run. Owner of the whole process while it runs, so it
 * may set FFmpeg's global log level (errors only).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "core/util.h"
#include "media/probe.h"
#include "media/render.h"

static int usage(void)
{
	fputs("usage: media-tool probe FILE [--max-duration S] [--max-width W] [--max-height H] "
	      "[--max-pixels N] "
	      "[--max-bytes N]\n"
	      "       media-tool thumb IN OUT.jpg AT_S [MAX_WIDTH]\n"
	      "       media-tool web IN OUT.mp4\n"
	      "       media-tool clip IN OUT.mp4 START END 16:9|9:16|1:1 crop|blur 0|1\n",
	      stderr);
	return 2;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (!s[0] || !end || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

static int fail(const err_t *e)
{
	json_t *err = json_pack("{s:s, s:s}", "code", e->code, "detail", e->detail);
	if (e->field[0])
		json_object_set_new(err, "field", json_string(e->field));
	print_json(json_pack("{s:o}", "error", err));
	fprintf(stderr, "media-tool: %s\n", e->detail);
	return 1;
}

static void on_progress(void *ctx, int percent)
{
	(void)ctx;
	fprintf(stderr, "{\"progress\":%d}\n", percent);
}

static int cmd_probe(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	media_limits_t lim;
	media_limits_default(&lim);
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		int64_t n;
		double d;
		if (strcmp(argv[i], "--max-duration") == 0 && parse_seconds(argv[i + 1], &d))
			lim.max_duration_s = d;
		else if (strcmp(argv[i], "--max-width") == 0 && parse_i64(argv[i + 1], &n) && n >= 0 &&
			 n < INT32_MAX)
			lim.max_width = (int)n;
		else if (strcmp(argv[i], "--max-height") == 0 && parse_i64(argv[i + 1], &n) && n >= 0 &&
			 n < INT32_MAX)
			lim.max_height = (int)n;
		else if (strcmp(argv[i], "--max-pixels") == 0 && parse_i64(argv[i + 1], &n) && n >= 0)
			lim.max_pixels = n;
		else if (strcmp(argv[i], "--max-bytes") == 0 && parse_i64(argv[i + 1], &n) && n >= 0)
			lim.max_file_bytes = n;
		else
			return usage();
	}
	media_info_t m;
	err_t e;
	err_clear(&e);
	if (!media_probe(argv[0], &lim, &m, &e))
		return fail(&e);
	json_t *j = json_object();
	json_object_set_new(j, "container", json_string(m.container));
	json_object_set_new(j, "format_name", json_string(m.format_name));
	json_object_set_new(j, "duration_s", json_real(m.duration_s));
	json_object_set_new(j, "file_bytes", json_integer(m.file_bytes));
	json_object_set_new(j, "bit_rate", json_integer(m.bit_rate));
	json_object_set_new(j, "has_video", json_boolean(m.has_video));
	json_object_set_new(j, "has_audio", json_boolean(m.has_audio));
	json_object_set_new(j, "width", json_integer(m.width));
	json_object_set_new(j, "height", json_integer(m.height));
	json_object_set_new(j, "display_width", json_integer(m.display_width));
	json_object_set_new(j, "display_height", json_integer(m.display_height));
	json_object_set_new(j, "fps", json_real(m.fps));
	json_object_set_new(j, "rotation", json_integer(m.rotation));
	json_object_set_new(j, "video_codec", json_string(m.video_codec));
	json_object_set_new(j, "pix_fmt", json_string(m.pix_fmt));
	json_object_set_new(j, "audio_codec", m.has_audio ? json_string(m.audio_codec) : json_null());
	json_object_set_new(j, "sample_rate", json_integer(m.sample_rate));
	json_object_set_new(j, "channels", json_integer(m.channels));
	json_object_set_new(j, "web_playable", json_boolean(media_probe_is_web_playable(&m)));
	return print_json(j);
}

static int cmd_thumb(int argc, char **argv)
{
	double at;
	int64_t w = 640;
	if (argc < 3 || argc > 4 || !parse_seconds(argv[2], &at) ||
	    (argc == 4 && (!parse_i64(argv[3], &w) || w < 0 || w > 16384)))
		return usage();
	err_t e;
	err_clear(&e);
	uint64_t t = time_mono_ns();
	if (!media_thumbnail(argv[0], argv[1], at, (int)w, &e))
		return fail(&e);
	return print_json(
	    json_pack("{s:b, s:I}", "ok", 1, "ms", (json_int_t)((time_mono_ns() - t) / 1000000u)));
}

static int cmd_web(int argc, char **argv)
{
	if (argc != 2)
		return usage();
	err_t e;
	err_clear(&e);
	media_progress_t p = {.fn = on_progress};
	uint64_t t = time_mono_ns();
	if (!media_transcode_web(argv[0], argv[1], &p, &e))
		return fail(&e);
	return print_json(
	    json_pack("{s:b, s:I}", "ok", 1, "ms", (json_int_t)((time_mono_ns() - t) / 1000000u)));
}

static int cmd_clip(int argc, char **argv)
{
	media_clip_req_t r = {0};
	if (argc != 7 || !parse_seconds(argv[2], &r.start_s) || !parse_seconds(argv[3], &r.end_s) ||
	    (strcmp(argv[6], "0") != 0 && strcmp(argv[6], "1") != 0))
		return usage();
	media_progress_t p = {.fn = on_progress};
	r.in_path = argv[0];
	r.out_path = argv[1];
	r.aspect = argv[4];
	r.fill = argv[5];
	r.watermark = argv[6][0] == '1';
	r.progress = &p;
	media_clip_result_t res;
	err_t e;
	err_clear(&e);
	if (!media_render_clip(&r, &res, &e))
		return fail(&e);
	return print_json(json_pack("{s:i, s:i, s:f, s:b, s:I}", "width", res.width, "height", res.height,
				    "duration_s", res.duration_s, "copied", res.copied, "ms",
				    (json_int_t)res.ms));
}

int media_cli_tool(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	av_log_set_level(AV_LOG_ERROR);
	const char *cmd = argv[1];
	if (strcmp(cmd, "probe") == 0)
		return cmd_probe(argc - 2, argv + 2);
	if (strcmp(cmd, "thumb") == 0)
		return cmd_thumb(argc - 2, argv + 2);
	if (strcmp(cmd, "web") == 0)
		return cmd_web(argc - 2, argv + 2);
	if (strcmp(cmd, "clip") == 0)
		return cmd_clip(argc - 2, argv + 2);
	return usage();
}
