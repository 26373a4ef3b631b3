/*
 * render.h — thumbnails, web-playable proxies and clip exports, in process,
 * on libavformat/libavcodec/libavfilter.
 *
 * What:
 *   media_thumbnail      one JPEG frame at a time position, scaled down;
 *   media_transcode_web  an MP4 every browser plays: H.264 (libx264 veryfast,
 *                        CRF 23, yuv420p, at most 1080p) + AAC 128 kb/s
 *                        stereo 48 kHz, moov first ("faststart");
 *   media_render_clip    a cut [start, end) in 16:9, 9:16 or 1:1, centre-crop
 *                        or blurred fill, optional watermark; stream copy when
 *                        nothing needs re-encoding.
 *
 * Inputs are opened with media_input_open (probe.h): only the input, the
 * output and the watermark font are ever opened. The caller is expected to
 * have run media_probe (and its plan limits) on the input first; these
 * functions re-check only what they need to work.
 *
 * Threads: every decoder and libx264 get thread_count 2, the filter graph
 * 2 threads; nothing depends on the machine's core count (a blurred 9:16
 * render peaks at 11 threads including the caller's), and nothing survives
 * the call. The functions are reentrant (no global state); the lead runs
 * them in a sandboxed child process per job.
 *
 * Output files: written in place at the given path; on failure the partial
 * output is removed. Callers that publish the file should render to a
 * temporary name and rename it.
 *
 * Ownership: requests and results belong to the caller; nothing returned
 * needs freeing.
 */
#ifndef COSMIV_MEDIA_RENDER_H
#define COSMIV_MEDIA_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* Called from the rendering thread with a percent in 0..100, each value at most once, in order. */
typedef struct {
	void (*fn)(void *ctx, int percent);
	void *ctx;
} media_progress_t;

/*
 * Decodes the frame shown at `at_s` (clamped into the video), scales it to at
 * most `max_width` pixels wide keeping the aspect ratio (never upscales;
 * max_width <= 0: full size), applies the stored rotation, and writes a JPEG.
 */
bool media_thumbnail(const char *in, const char *out_jpeg, double at_s, int max_width, err_t *e);

/* Web-playable proxy; a video-only input gives a video-only output. */
bool media_transcode_web(const char *in, const char *out_mp4, const media_progress_t *p, err_t *e);

typedef struct {
	const char *in_path;
	const char *out_path;
	double start_s; /* seconds from the start of the video, as a player shows it */
	double end_s;
	const char *aspect;		  /* "16:9", "9:16" or "1:1" */
	const char *fill;		  /* "crop" or "blur" (NULL: "crop") */
	bool watermark;			  /* "Cosmiv" in the bottom-right corner */
	const media_progress_t *progress; /* may be NULL */
} media_clip_req_t;

typedef struct {
	int width, height;
	double duration_s; /* of the written file */
	bool copied;	   /* stream copy, no re-encode */
	int64_t ms;	   /* wall time of the render */
} media_clip_result_t;

/*
 * Stream copy when the source is H.264 (yuv420p) with AAC or no audio, its
 * display aspect is within 1% of the requested one, there is no watermark and
 * a keyframe lies within one frame of start_s; otherwise a re-encode to
 * 1920x1080 / 1080x1920 / 1080x1080, or smaller when the source's short side
 * is below 1080 (720p gives 1280x720 / 720x1280 / 720x720).
 * Bad requests are ERR_INVALID with `field` set ("start_s", "end_s",
 * "aspect", "fill").
 */
bool media_render_clip(const media_clip_req_t *req, media_clip_result_t *out, err_t *e);

/*
 * Output size of a clip for a source shown at src_w x src_h (after rotation).
 * False for an unknown aspect. Exposed for tests and for the UI's preview.
 */
bool media_clip_target_size(int src_w, int src_h, const char *aspect, int *w, int *h);

/*
 * `cosmiv media-tool probe|thumb|web|clip …` (tool.c): argv[0] is
 * "media-tool". Prints JSON on stdout; returns the process exit code.
 */
int media_cli_tool(int argc, char **argv);

/* ---- Internal to src/media/render*.c (not for other modules) ---- */

struct AVFormatContext;
struct AVDictionary;

/* Opens an MP4 muxer on `path` (file protocol only); the caller writes the header with media_render_mp4_opts.
 */
bool media_render_open_output(const char *path, struct AVFormatContext **out, err_t *e);
/* Closes the muxer and its file; removes the file when !keep. */
void media_render_close_output(struct AVFormatContext **out, const char *path, bool keep);
/* Header options for every MP4 we write: faststart, file protocol only. Free with av_dict_free. */
void media_render_mp4_opts(struct AVDictionary **opts);

/*
 * The stream-copy path. Returns 1 when it wrote the clip, 0 when no keyframe
 * lies within one frame of the start (the caller re-encodes), -1 on error.
 * fmt is an opened input (media_input_open); vi/ai the stream indexes (ai -1:
 * none); start_abs/end_abs in seconds on the input's time line.
 */
int media_render_try_copy(struct AVFormatContext *fmt, int vi, int ai, double start_abs, double end_abs,
			  const char *out_path, const media_progress_t *p, media_clip_result_t *res,
			  err_t *e);

/* Calls p->fn when `percent` is above the last value reported (*last). */
void media_render_report(const media_progress_t *p, int *last, int percent);

#endif
