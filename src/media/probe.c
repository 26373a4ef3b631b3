/*
 * probe.c — see probe.h.
 *
 * How an input is opened (media_input_open):
 *   1. stat: missing, not a regular file, empty → refused before any parsing.
 *   2. avio_open2("file:" + path) with protocol_whitelist=file: the "file:"
 *      prefix stops a name like "concat:a|b" or "subfile,,..." from being read
 *      as a protocol.
 *   3. The container is detected with av_probe_input_buffer2 on that I/O
 *      context with an empty file name, so the extension is ignored (a text
 *      file called clip.mp4 is "not a video file", not a misdetected MP4), and
 *      it must be on the allow list. The first bytes are also looked at to name
 *      playlists and file lists in the error.
 *   4. avformat_open_input with that demuxer forced, our I/O context, an
 *      io_open callback that refuses everything, format_whitelist and
 *      codec_whitelist set (the latter built from the codec allow list, so
 *      avformat_find_stream_info never opens, say, a subtitle or a legacy
 *      decoder on attacker-controlled bytes).
 *
 * Why not just avformat_open_input(path): that would let the name pick a
 * protocol, the extension pick a demuxer, and a playlist demuxer open other
 * files (the classic "HLS playlist that reads /etc/passwd" upload).
 *
 * Truncation: an MP4 whose index ('moov') is missing fails to open and is
 * reported as truncated; an MP4 whose index is present but points past the
 * end of the file (an upload cut short after a faststart moov) is caught by
 * comparing the last index entry of each stream with the file size.
 */
#include "media/probe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "core/util.h"

/* Demuxer names (AVInputFormat.name is a comma list, matched with av_match_list). */
#define ALLOWED_DEMUXERS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts"
#define MIN_DIMENSION	 16

void media_limits_default(media_limits_t *lim)
{
	lim->max_duration_s = 2 * 3600;
	lim->max_width = 7680;
	lim->max_height = 4320;
	lim->max_pixels = 7680LL * 4320LL;
	lim->max_file_bytes = 4LL << 30;
}

bool media_codec_allowed(int codec_id)
{
	switch (codec_id) {
	case AV_CODEC_ID_H264:
	case AV_CODEC_ID_HEVC:
	case AV_CODEC_ID_VP8:
	case AV_CODEC_ID_VP9:
	case AV_CODEC_ID_AV1:
	case AV_CODEC_ID_MPEG4:
	case AV_CODEC_ID_AAC:
	case AV_CODEC_ID_OPUS:
	case AV_CODEC_ID_MP3:
	case AV_CODEC_ID_VORBIS:
	case AV_CODEC_ID_AC3:
	case AV_CODEC_ID_FLAC:
		return true;
	default:
		/* pcm_s16le, pcm_f32be, ...: every raw PCM variant */
		return strncmp(avcodec_get_name((enum AVCodecID)codec_id), "pcm_", 4) == 0;
	}
}

void media_format_duration(double s, char out[32])
{
	if (!(s >= 0) || s > 1e9)
		s = 0;
	long long t = llround(s);
	if (t >= 3600)
		snprintf(out, 32, "%lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
	else
		snprintf(out, 32, "%lld:%02lld", t / 60, t % 60);
}

static void format_bytes(int64_t n, char out[32])
{
	if (n >= (1LL << 30))
		snprintf(out, 32, "%.1f GB", (double)n / (double)(1LL << 30));
	else if (n >= (1LL << 20))
		snprintf(out, 32, "%.1f MB", (double)n / (double)(1LL << 20));
	else
		snprintf(out, 32, "%lld KB", (long long)((n + 1023) / 1024));
}

int media_stream_rotation(const AVFormatContext *fmt, int stream_index)
{
	if (stream_index < 0 || (unsigned)stream_index >= fmt->nb_streams)
		return 0;
	size_t size = 0;
	const uint8_t *m =
	    av_stream_get_side_data(fmt->streams[stream_index], AV_PKT_DATA_DISPLAYMATRIX, &size);
	if (!m || size < 9 * sizeof(int32_t))
		return 0;
	double theta = -av_display_rotation_get((const int32_t *)m);
	if (isnan(theta))
		return 0;
	long r = lround(theta / 90.0) * 90;
	r %= 360;
	if (r < 0)
		r += 360;
	return (int)r;
}

/* ---- opening ---- */

/* Demuxers may ask for other files (playlists, segments, references): never. */
static int deny_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **opts)
{
	(void)pb;
	(void)flags;
	(void)opts;
	av_log(s, AV_LOG_ERROR, "refusing to open '%s' from inside a media file\n", url);
	return AVERROR(EPERM);
}

/* Comma list of every decoder name whose codec is allowed ("h264,hevc,libdav1d,..."). */
static char *decoder_whitelist(void)
{
	buf_t b;
	buf_init(&b);
	void *it = NULL;
	const AVCodec *c;
	while ((c = av_codec_iterate(&it))) {
		if (!av_codec_is_decoder(c) || !media_codec_allowed(c->id))
			continue;
		if (b.len)
			buf_putc(&b, ',');
		buf_puts(&b, c->name);
	}
	return buf_steal(&b);
}

static bool is_audio_demuxer(const char *name)
{
	static const char *const audio[] = {"mp3",  "wav", "flac", "ogg", "aac", "ac3", "eac3", "w64",
					    "aiff", "amr", "ape",  "wv",  "tta", "caf", "dts",	"truehd"};
	for (size_t i = 0; i < ARRAY_LEN(audio); i++)
		if (av_match_list(name, audio[i], ','))
			return true;
	return false;
}

static bool refuse_format(const char *head, size_t headlen, const AVInputFormat *ifmt, err_t *e)
{
	const char *name = ifmt ? ifmt->name : "";
	if ((headlen >= 7 && memcmp(head, "#EXTM3U", 7) == 0) || av_match_list(name, "hls,applehttp", ','))
		return err_set(e, ERR_INVALID, "media_playlist", NULL,
			       "this is an HLS/M3U playlist, not a video file: upload the video itself");
	if ((headlen >= 8 && memcmp(head, "ffconcat", 8) == 0) || av_match_list(name, "concat", ','))
		return err_set(
		    e, ERR_INVALID, "media_playlist", NULL,
		    "this is a file list (concat script), not a video file: upload the video itself");
	if (av_match_list(name, "dash,mpd,smil,hds,mmf,image2,tee", ','))
		return err_set(
		    e, ERR_INVALID, "media_playlist", NULL,
		    "this file refers to other files (%s), which is not accepted: upload the video itself",
		    name);
	if (is_audio_demuxer(name))
		return err_set(e, ERR_INVALID, "media_audio_only", NULL,
			       "no video stream: this is an audio-only file (%s)", name);
	if (av_strcasecmp(name, "gif") == 0 || strstr(name, "_pipe") ||
	    av_match_list(name, "webp,png,jpeg", ','))
		return err_set(e, ERR_INVALID, "media_not_video", NULL,
			       "not a video file: this looks like an image (%s)", name);
	if (ifmt)
		return err_set(
		    e, ERR_INVALID, "media_not_video", NULL,
		    "not a video file: the %s format is not accepted (accepted: MP4, MOV, MKV, WebM, AVI, "
		    "FLV, MPEG-TS)",
		    name);
	return err_set(e, ERR_INVALID, "media_not_video", NULL, "not a video file");
}

static bool damaged(err_t *e, const AVInputFormat *ifmt, int averr)
{
	if (ifmt && av_match_list(ifmt->name, "mov", ',') && averr == AVERROR_INVALIDDATA)
		return err_set(e, ERR_INVALID, "media_damaged", NULL,
			       "the file is truncated or damaged: its index (the 'moov' box) is missing, "
			       "so the upload may be incomplete");
	char msg[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, msg, sizeof(msg));
	return err_set(e, ERR_INVALID, "media_damaged", NULL, "the file is truncated or damaged: %s", msg);
}

bool media_input_open(const char *path, media_input_t *in, err_t *e)
{
	memset(in, 0, sizeof(*in));
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return err_set(e, ERR_NOT_FOUND, "media_missing", NULL, "the file does not exist");
		return err_set(e, ERR_NOT_FOUND, "media_unreadable", NULL, "the file cannot be read: %s",
			       strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "media_not_video", NULL,
			       "not a video file (not a regular file)");
	if (st.st_size == 0)
		return err_set(e, ERR_INVALID, "media_empty", NULL, "the file is empty");
	in->file_bytes = (int64_t)st.st_size;

	char *url = xasprintf("file:%s", path);
	AVDictionary *io_opts = NULL;
	av_dict_set(&io_opts, "protocol_whitelist", "file", 0);
	AVIOContext *pb = NULL;
	int rc = avio_open2(&pb, url, AVIO_FLAG_READ, NULL, &io_opts);
	av_dict_free(&io_opts);
	free(url);
	if (rc < 0) {
		char msg[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(rc, msg, sizeof(msg));
		return err_set(e, ERR_NOT_FOUND, "media_unreadable", NULL, "the file cannot be read: %s",
			       msg);
	}

	unsigned char head[16];
	int headlen = avio_read(pb, head, sizeof(head));
	if (headlen < 0)
		headlen = 0;
	if (avio_seek(pb, 0, SEEK_SET) < 0) {
		avio_closep(&pb);
		return err_set(e, ERR_INVALID, "media_damaged", NULL, "the file is truncated or damaged");
	}

	/* Detection from the content only: "" as the file name disables extension matching. */
	const AVInputFormat *ifmt = NULL;
	rc = av_probe_input_buffer2(pb, &ifmt, "", NULL, 0, 0);
	if (rc < AVPROBE_SCORE_RETRY || !ifmt || !av_match_list(ifmt->name, ALLOWED_DEMUXERS, ',')) {
		avio_closep(&pb);
		return refuse_format((const char *)head, (size_t)headlen,
				     rc < AVPROBE_SCORE_RETRY ? NULL : ifmt, e);
	}

	AVFormatContext *fmt = avformat_alloc_context();
	if (!fmt)
		abort();
	fmt->pb = pb;
	fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	fmt->io_open = deny_io_open;
	char *codecs = decoder_whitelist();
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "format_whitelist", ALLOWED_DEMUXERS, 0);
	av_dict_set(&opts, "codec_whitelist", codecs, 0);
	free(codecs);
	rc = avformat_open_input(&fmt, "", ifmt, &opts); /* frees fmt on failure, not pb */
	av_dict_free(&opts);
	if (rc < 0) {
		avio_closep(&pb);
		return damaged(e, ifmt, rc);
	}
	/* Decoders opened to find the parameters refuse frames above 8K: a lying header cannot make them
	 * allocate gigabytes. */
	unsigned nstreams = fmt->nb_streams;
	AVDictionary **sopts = xcalloc(nstreams ? nstreams : 1, sizeof(*sopts));
	for (unsigned i = 0; i < nstreams; i++)
		av_dict_set_int(&sopts[i], "max_pixels", MEDIA_MAX_DECODE_PIXELS, 0);
	rc = avformat_find_stream_info(fmt, sopts);
	for (unsigned i = 0; i < nstreams; i++)
		av_dict_free(&sopts[i]);
	free(sopts);
	if (rc < 0) {
		avformat_close_input(&fmt);
		avio_closep(&pb);
		return damaged(e, ifmt, rc);
	}
	in->fmt = fmt;
	return true;
}

void media_input_close(media_input_t *in)
{
	if (!in->fmt)
		return;
	AVIOContext *pb = in->fmt->pb;
	avformat_close_input(&in->fmt);
	avio_closep(&pb);
}

/* ---- probing ---- */

/* The largest non-cover-art video stream, or -1. */
static int pick_video(const AVFormatContext *fmt)
{
	int best = -1;
	int64_t best_px = -1;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *s = fmt->streams[i];
		if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
		    (s->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue;
		int64_t px = (int64_t)s->codecpar->width * s->codecpar->height;
		if (px > best_px) {
			best = (int)i;
			best_px = px;
		}
	}
	return best;
}

void media_pick_streams(const AVFormatContext *fmt, int *video, int *audio)
{
	*video = pick_video(fmt);
	int a = av_find_best_stream((AVFormatContext *)fmt, AVMEDIA_TYPE_AUDIO, -1, *video, NULL, 0);
	/* A commentary track in DTS next to an AAC one: prefer a track we can use. */
	if (a >= 0 && !media_codec_allowed(fmt->streams[a]->codecpar->codec_id)) {
		for (unsigned i = 0; i < fmt->nb_streams; i++) {
			const AVCodecParameters *p = fmt->streams[i]->codecpar;
			if (p->codec_type == AVMEDIA_TYPE_AUDIO && media_codec_allowed(p->codec_id)) {
				a = (int)i;
				break;
			}
		}
	}
	*audio = a >= 0 ? a : -1;
}

void media_display_size(const AVFormatContext *fmt, int stream_index, int *w, int *h)
{
	const AVStream *s = fmt->streams[stream_index];
	AVRational sar = av_guess_sample_aspect_ratio((AVFormatContext *)fmt, (AVStream *)s, NULL);
	double dw = s->codecpar->width;
	if (sar.num > 0 && sar.den > 0 && sar.num != sar.den)
		dw = dw * sar.num / sar.den;
	int iw = (int)lround(dw), ih = s->codecpar->height;
	int rot = media_stream_rotation(fmt, stream_index);
	*w = rot == 90 || rot == 270 ? ih : iw;
	*h = rot == 90 || rot == 270 ? iw : ih;
}

static const char *container_name(const AVFormatContext *fmt, const media_info_t *info)
{
	const char *n = fmt->iformat->name;
	if (av_match_list(n, "mov", ',')) {
		const AVDictionaryEntry *brand = av_dict_get(fmt->metadata, "major_brand", NULL, 0);
		return brand && strncmp(brand->value, "qt", 2) == 0 ? "mov" : "mp4";
	}
	if (av_match_list(n, "matroska", ',')) {
		/* WebM is the Matroska subset with VP8/VP9/AV1 and Vorbis/Opus only. */
		bool webm_v = !info->has_video || av_match_list(info->video_codec, "vp8,vp9,av1", ',');
		bool webm_a = !info->has_audio || av_match_list(info->audio_codec, "vorbis,opus", ',');
		return webm_v && webm_a ? "webm" : "matroska";
	}
	return n;
}

/* An MP4 whose index points past the end of the file has been cut short. */
static bool check_index_within_file(const AVFormatContext *fmt, int64_t file_bytes, err_t *e)
{
	if (!av_match_list(fmt->iformat->name, "mov", ','))
		return true;
	int64_t need = 0;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		AVStream *s = fmt->streams[i];
		int n = avformat_index_get_entries_count(s);
		if (n <= 0)
			continue;
		const AVIndexEntry *ie = avformat_index_get_entry(s, n - 1);
		if (ie && ie->pos + ie->size > need)
			need = ie->pos + ie->size;
	}
	if (need > file_bytes) {
		char have_s[32], need_s[32];
		format_bytes(file_bytes, have_s);
		format_bytes(need, need_s);
		return err_set(
		    e, ERR_INVALID, "media_damaged", NULL,
		    "the file is truncated or damaged: it is %s but its index refers to %s of data, so "
		    "the upload may be incomplete",
		    have_s, need_s);
	}
	return true;
}

static bool check_limits(const media_info_t *in, const media_limits_t *lim, err_t *e)
{
	if (lim->max_duration_s > 0 && in->duration_s > lim->max_duration_s) {
		char have[32], max[32];
		media_format_duration(in->duration_s, have);
		media_format_duration(lim->max_duration_s, max);
		if (strcmp(have, max) == 0)
			media_format_duration(ceil(in->duration_s), have);
		return err_set(e, ERR_INVALID, "media_too_long", NULL,
			       "the video is %s long; the limit is %s", have, max);
	}
	int w = in->display_width, h = in->display_height;
	int big = w > h ? w : h, small = w > h ? h : w;
	if ((lim->max_width > 0 && big > lim->max_width) || (lim->max_height > 0 && small > lim->max_height))
		return err_set(e, ERR_INVALID, "media_resolution", NULL,
			       "resolution %dx%d is above the limit of %dx%d", w, h, lim->max_width,
			       lim->max_height);
	if (lim->max_pixels > 0 && (int64_t)w * h > lim->max_pixels)
		return err_set(e, ERR_INVALID, "media_resolution", NULL,
			       "resolution %dx%d (%.1f megapixels) is above the limit of %.1f megapixels", w,
			       h, (double)w * h / 1e6, (double)lim->max_pixels / 1e6);
	if (small < MIN_DIMENSION)
		return err_set(e, ERR_INVALID, "media_resolution", NULL,
			       "resolution %dx%d is too small; the minimum is %dx%d", w, h, MIN_DIMENSION,
			       MIN_DIMENSION);
	return true;
}

static void fill_video(const AVFormatContext *fmt, int vi, media_info_t *out)
{
	const AVStream *s = fmt->streams[vi];
	const AVCodecParameters *p = s->codecpar;
	out->has_video = true;
	out->video_stream = vi;
	out->width = p->width;
	out->height = p->height;
	str_copy(out->video_codec, sizeof(out->video_codec), avcodec_get_name(p->codec_id));
	const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)p->format);
	str_copy(out->pix_fmt, sizeof(out->pix_fmt), pf ? pf : "");
	out->hdr = p->color_trc == AVCOL_TRC_SMPTE2084 || p->color_trc == AVCOL_TRC_ARIB_STD_B67;
	AVRational fr =
	    s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0 ? s->avg_frame_rate : s->r_frame_rate;
	out->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
	out->rotation = media_stream_rotation(fmt, vi);
	media_display_size(fmt, vi, &out->display_width, &out->display_height);
}

bool media_probe(const char *path, const media_limits_t *lim, media_info_t *out, err_t *e)
{
	media_limits_t deflt;
	if (!lim) {
		media_limits_default(&deflt);
		lim = &deflt;
	}
	memset(out, 0, sizeof(*out));
	out->video_stream = out->audio_stream = -1;

	struct stat st;
	if (stat(path, &st) == 0 && lim->max_file_bytes > 0 && (int64_t)st.st_size > lim->max_file_bytes) {
		char have[32], max[32];
		format_bytes((int64_t)st.st_size, have);
		format_bytes(lim->max_file_bytes, max);
		return err_set(e, ERR_INVALID, "media_too_large", NULL, "the file is %s; the limit is %s",
			       have, max);
	}

	media_input_t in;
	if (!media_input_open(path, &in, e))
		return false;
	AVFormatContext *fmt = in.fmt;
	bool ok = false;
	out->file_bytes = in.file_bytes;
	str_copy(out->format_name, sizeof(out->format_name), fmt->iformat->name);
	out->bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;

	int vi, ai;
	media_pick_streams(fmt, &vi, &ai);
	if (ai >= 0) {
		const AVCodecParameters *p = fmt->streams[ai]->codecpar;
		out->has_audio = true;
		out->audio_stream = ai;
		str_copy(out->audio_codec, sizeof(out->audio_codec), avcodec_get_name(p->codec_id));
		out->sample_rate = p->sample_rate;
		out->channels = p->ch_layout.nb_channels;
	}
	if (vi >= 0)
		fill_video(fmt, vi, out);
	str_copy(out->container, sizeof(out->container), container_name(fmt, out));

	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
		out->duration_s = (double)fmt->duration / AV_TIME_BASE;
	} else if (vi >= 0 && fmt->streams[vi]->duration > 0) {
		out->duration_s = (double)fmt->streams[vi]->duration * av_q2d(fmt->streams[vi]->time_base);
	}

	if (!out->has_video) {
		if (out->has_audio)
			err_set(e, ERR_INVALID, "media_audio_only", NULL,
				"no video stream: this is an audio-only file");
		else
			err_set(e, ERR_INVALID, "media_not_video", NULL,
				"not a video file: it has no video stream");
		goto out;
	}
	if (!media_codec_allowed(fmt->streams[vi]->codecpar->codec_id)) {
		err_set(
		    e, ERR_INVALID, "media_codec", NULL,
		    "the video codec '%s' is not supported (accepted: H.264, HEVC, VP8, VP9, AV1, MPEG-4)",
		    out->video_codec);
		goto out;
	}
	if (out->has_audio && !media_codec_allowed(fmt->streams[ai]->codecpar->codec_id)) {
		err_set(e, ERR_INVALID, "media_codec", NULL,
			"the audio codec '%s' is not supported (accepted: AAC, Opus, MP3, Vorbis, AC-3, "
			"FLAC, PCM)",
			out->audio_codec);
		goto out;
	}
	if (out->width <= 0 || out->height <= 0) {
		err_set(e, ERR_INVALID, "media_damaged", NULL,
			"the file is truncated or damaged: the size of its video is unknown");
		goto out;
	}
	if (!(out->duration_s > 0)) {
		err_set(e, ERR_INVALID, "media_no_duration", NULL,
			"the video's duration cannot be determined; the file may be damaged or still being "
			"recorded");
		goto out;
	}
	if (!check_index_within_file(fmt, in.file_bytes, e))
		goto out;
	if (!check_limits(out, lim, e))
		goto out;
	/* after the limits: a decoder refuses a frame above its pixel cap, and the size says why */
	if (out->pix_fmt[0] == '\0') {
		err_set(e, ERR_INVALID, "media_damaged", NULL,
			"the file is truncated or damaged: its video stream cannot be decoded");
		goto out;
	}
	ok = true;
out:
	media_input_close(&in);
	return ok;
}

bool media_probe_is_web_playable(const media_info_t *info)
{
	return info->has_video && strcmp(info->container, "mp4") == 0 &&
	       strcmp(info->video_codec, "h264") == 0 && strcmp(info->pix_fmt, "yuv420p") == 0 &&
	       !info->hdr && (!info->has_audio || strcmp(info->audio_codec, "aac") == 0);
}
