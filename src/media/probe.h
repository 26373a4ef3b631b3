/*
 * probe.h — open untrusted media safely, describe it, and check it against
 * the plan's limits.
 *
 * What: media_probe() fills a media_info_t (container, duration, size, frame
 * rate, codecs, bit rate, rotation) and validates it against a
 * media_limits_t; every refusal is ERR_INVALID with a sentence a user can act
 * on ("the video is 10:00:00 long; the limit is 2:00:00").
 *
 * media_input_open() is the one way the media code opens an input file. The
 * renderer and the highlight detector use it too, so that every demuxer that
 * touches an upload runs under the same rules:
 *   - only the local file itself is read: the I/O context is ours, the
 *     protocol white list is "file", and the demuxer's io_open callback (the
 *     hook HLS, concat, DASH, mov "dref" and image sequences use to reach
 *     other files or URLs) refuses every request;
 *   - the container is detected from the bytes only (never from the file
 *     name) and must be on an allow list: MP4/MOV family, Matroska/WebM, AVI,
 *     FLV, MPEG-TS. Playlists, concat scripts, image sequences and every
 *     other demuxer are refused before they parse anything;
 *   - only allow-listed decoders may be opened while the streams are probed.
 *
 * Thread-safety: every function is reentrant (no global state is read or
 * written; FFmpeg's own logging goes to its default callback). Ownership: a
 * media_input_t belongs to the caller; release it with media_input_close().
 */
#ifndef COSMIV_MEDIA_PROBE_H
#define COSMIV_MEDIA_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* No decoder in the media code accepts frames larger than this (8K UHD), whatever the plan. */
#define MEDIA_MAX_DECODE_PIXELS (7680LL * 4320LL)

/* Limits per plan. A field of 0 means "no limit" for that field. */
typedef struct {
	double max_duration_s;
	int max_width;	    /* applies to the larger of the two dimensions... */
	int max_height;	    /* ...and this to the smaller, so portrait video is not penalised */
	int64_t max_pixels; /* width * height */
	int64_t max_file_bytes;
} media_limits_t;

/* 2 hours, 7680x4320 (8K UHD), 4 GiB: what the free plan accepts. */
void media_limits_default(media_limits_t *lim);

typedef struct {
	char container[16];   /* "mp4", "mov", "webm", "matroska", "avi", "flv", "mpegts" */
	char format_name[64]; /* the demuxer's name, as ffprobe prints it */
	double duration_s;    /* 0 when unknown */
	int64_t file_bytes;
	int64_t bit_rate; /* bits per second, whole file; 0 when unknown */
	bool has_video;
	bool has_audio;
	/* video (zeros / "" without video) */
	int width, height; /* coded size, as ffprobe reports it */
	int display_width; /* after rotation and sample aspect ratio: what a player shows */
	int display_height;
	double fps;	      /* average frame rate; 0 when unknown */
	int rotation;	      /* clockwise degrees to show it upright: 0, 90, 180 or 270 */
	char video_codec[32]; /* "h264", "hevc", "vp9", ... */
	char pix_fmt[32];     /* "yuv420p", ... */
	bool hdr;	      /* PQ (HDR10) or HLG transfer: exports tone-map it to SDR */
	int video_stream;     /* stream index, -1 when none */
	/* audio */
	char audio_codec[32]; /* "aac", "opus", ... */
	int sample_rate;
	int channels;
	int audio_stream; /* stream index, -1 when none */
} media_info_t;

/*
 * Probes `path` and validates it against `lim` (NULL: media_limits_default).
 * On failure `out` is undefined and `e` holds:
 *   ERR_NOT_FOUND  the file does not exist or cannot be read;
 *   ERR_INVALID    not an accepted video, or above a limit (detail says which);
 * codes: "media_empty", "media_not_video", "media_audio_only", "media_playlist",
 * "media_damaged", "media_codec", "media_too_long", "media_too_large",
 * "media_resolution", "media_no_duration".
 */
bool media_probe(const char *path, const media_limits_t *lim, media_info_t *out, err_t *e);

/* True when browsers play the file as is: MP4, H.264 yuv420p, AAC or no audio. */
bool media_probe_is_web_playable(const media_info_t *info);

/* ---- Safe input, shared by the whole media module ---- */

struct AVFormatContext;

typedef struct {
	struct AVFormatContext *fmt; /* opened, streams found; do not close it yourself */
	int64_t file_bytes;
} media_input_t;

/*
 * Opens `path` under the rules above and runs avformat_find_stream_info.
 * Does not check limits or codecs (media_probe does); a caller that renders a
 * file must have probed it first. Errors as media_probe.
 */
bool media_input_open(const char *path, media_input_t *in, err_t *e);
void media_input_close(media_input_t *in);

/* The video stream a user means (largest, not cover art) and the best audio stream; -1 when absent. */
void media_pick_streams(const struct AVFormatContext *fmt, int *video, int *audio);

/* The size a player shows for a video stream: square pixels, then rotated. */
void media_display_size(const struct AVFormatContext *fmt, int stream_index, int *w, int *h);

/* True when a decoder for this codec id (an enum AVCodecID) may be used. */
bool media_codec_allowed(int codec_id);

/* The clockwise rotation (0/90/180/270) stored in a stream's display matrix. */
int media_stream_rotation(const struct AVFormatContext *fmt, int stream_index);

/* "1:02:03" or "4:05": how durations appear in messages. */
void media_format_duration(double s, char out[32]);

#endif
