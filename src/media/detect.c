/*
 * detect.c — highlight detection: opening, decoding and the pipeline.
 *
 * What: media_detect_highlights() turns a local video file into ranked
 * highlight windows with reasons (see detect.h for the contract).
 *
 * How, stage by stage (the timings in the result follow these names):
 *   probe    The file is opened with probe.c's media_input_open, the one
 *            safe way into FFmpeg in this code base: the "file" protocol
 *            only, the demuxer detected from the bytes and allow-listed
 *            (mp4/mov, mkv/webm, avi, flv, mpeg-ts) before it parses
 *            anything, no way for a playlist to open another file. Then the
 *            header is sanity-checked: no streams, zero or > 12 h duration,
 *            frames over 8192 pixels a side are refused.
 *   decode   One pass over the packets. Audio is decoded completely,
 *            downmixed and resampled to mono 16 kHz (libswresample) and fed
 *            to detect_audio.c. Video is *not* decoded, except keyframes
 *            (skip_frame = AVDISCARD_NONKEY, scaled to 64x36 gray by
 *            libswscale): every packet's size, time and key flag are kept.
 *            A game model with a HUD region (detect.h) is the exception:
 *            its messages can appear at any time, so the reference frames
 *            of the whole video are decoded (skip_frame = AVDISCARD_NONREF,
 *            no deblocking; about half the work of a full decode) and the
 *            region is read every 0.2 s (hud_frame).
 *   features detect_features.c turns that into one feature row per 0.5 s.
 *   refine   The first scoring pass names candidate moments; the video
 *            around the strongest ones (±2.5 s) is decoded at low cost
 *            (no loop filter, non-reference frames skipped until the window)
 *            and analysed on pixels, within a budget of a few percent of the
 *            file's frames. Pixels confirm or deny the bitstream's cuts and
 *            flashes, so what the reasons claim was seen.
 *   scoring  detect_score.c: logistic score, peaks, windows, reasons.
 *
 * Why: full decoding of 1080p60 H.264 costs about as much as playing it on
 * one core; the audio of the same file decodes ~100x faster and packet sizes
 * are free. Most of what makes a gameplay moment exciting is audible
 * (gunfire, explosions) or visible in the bitrate (sudden motion, cuts);
 * pixels are needed only to check the few moments we are about to show.
 * Decoders run with thread_count = 0 (one thread per core).
 */
#include "media/detect.h"
#include "media/probe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "core/util.h"

#define MAX_DURATION_S (12 * 3600.0)
#define MAX_SIDE       8192
#define AUDIO_RATE     16000
#define DEFAULT_BUDGET 0.05 /* of the file's video packets: the refine stage never costs more */
#define REFINE_PAD_S   2.5
#define MAX_CANDIDATES 12
/* HUD messages (hud_frame): sampling, what a text edge is, how long a message stays the same one */
#define HUD_STEP_S   0.2
#define HUD_BRIGHT   185 /* a glyph's pixel (8-bit luma) ... */
#define HUD_DARK     60	 /* ... next to its dark outline or shadow */
#define HUD_SAME     0.5 /* masks differing in at most this share of their points show the same text */
#define HUD_HOLD_S   4.0 /* text that blinks off and back within this is the same message */
#define HUD_WINDOW_S 3.0 /* MEDIA_F_HUD counts messages within this of a moment */

typedef struct {
	const char *path;
	const media_detect_opts_t *opts;
	media_result_t *res;
	media_input_t in;
	AVFormatContext *fmt; /* in.fmt */
	int aidx, vidx;
	AVCodecContext *adec, *vdec;
	SwrContext *swr;
	struct SwsContext *sws;
	AVPacket *pkt;
	AVFrame *frame;
	double t0, duration, fps;
	double data_end; /* the latest packet time seen */
	/* audio */
	media_audio_t *audio;
	int64_t audio_pos; /* samples at 16 kHz pushed so far */
	float *rs;
	int rs_cap;
	int64_t audio_frames;
	/* video */
	media_vpacket_t *pk;
	size_t npk, cap_pk, max_pk;
	media_keyframe_t *kf;
	size_t nkf, cap_kf;
	uint8_t gray[MEDIA_GRAY_W * MEDIA_GRAY_H];
	media_pixels_t pix;
	bool pix_on;  /* analyse the pixels of every decoded frame */
	double pix_a; /* analysis window (refine) */
	double pix_b;
	double pix_first, pix_last;
	media_features_t feat;
	int percent;
	uint64_t dsp_ns;
	/* HUD messages: the model's region sampled every HUD_STEP_S during pass 1 (hud_frame) */
	const media_model_t *model;
	bool hud_on;
	double hud_next;
	int hud_w, hud_h, hud_step, hud_x0, hud_y0, hud_nx, hud_ny;
	uint8_t *hud_cur, *hud_prev, *hud_ev; /* one byte per sample point: 1 = a text edge */
	size_t hud_prev_n, hud_ev_n;
	bool hud_prev_shown;
	double *hud_t; /* when each message appeared */
	size_t n_hud, cap_hud;
} detect_t;

static double ms_since(uint64_t t0)
{
	return (double)(time_mono_ns() - t0) / 1e6;
}

static void progress(detect_t *d, int percent, const char *stage)
{
	if (!d->opts || !d->opts->progress || percent == d->percent)
		return;
	d->percent = percent;
	d->opts->progress(d->opts->progress_ctx, percent, stage);
}

static const char *av_err(int rc, char *buf, size_t len)
{
	av_strerror(rc, buf, len);
	return buf;
}

static void add_note(media_result_t *r, char *note)
{
	r->notes = xrealloc(r->notes, (r->n_notes + 1) * sizeof(char *));
	r->notes[r->n_notes++] = note;
}

/* ==== Probe ==== */

static bool open_decoder(AVCodecParameters *par, AVCodecContext **out, bool video, err_t *e)
{
	const AVCodec *codec =
	    media_codec_allowed(par->codec_id) ? avcodec_find_decoder(par->codec_id) : NULL;
	if (!codec)
		return err_set(e, ERR_INVALID, "no_decoder", NULL, "the %s codec %s is not accepted",
			       video ? "video" : "audio", avcodec_get_name(par->codec_id));
	AVCodecContext *c = avcodec_alloc_context3(codec);
	if (!c)
		abort();
	char eb[128];
	int rc = avcodec_parameters_to_context(c, par);
	if (rc >= 0) {
		c->thread_count = 0; /* one per core */
		if (video) {
			c->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
			c->skip_frame = AVDISCARD_NONKEY;
			c->max_pixels = (int64_t)MAX_SIDE * MAX_SIDE;
		}
		rc = avcodec_open2(c, codec, NULL);
	}
	if (rc < 0) {
		avcodec_free_context(&c);
		return err_set(e, ERR_INVALID, "decoder_failed", NULL, "cannot open the %s decoder (%s): %s",
			       video ? "video" : "audio", avcodec_get_name(par->codec_id),
			       av_err(rc, eb, sizeof(eb)));
	}
	*out = c;
	return true;
}

static bool detect_open(detect_t *d, err_t *e)
{
	/* probe.c's opener: the local file only, allow-listed demuxers, no io_open for playlists */
	if (!media_input_open(d->path, &d->in, e))
		return false;
	d->fmt = d->in.fmt;
	media_pick_streams(d->fmt, &d->vidx, &d->aidx);
	if (d->vidx < 0 && d->aidx < 0)
		return err_set(e, ERR_INVALID, "no_streams", NULL, "no audio or video stream");

	/* duration: the container's, else the longest stream's */
	double dur = d->fmt->duration != AV_NOPTS_VALUE ? (double)d->fmt->duration / AV_TIME_BASE : 0;
	for (unsigned i = 0; dur <= 0 && i < d->fmt->nb_streams; i++) {
		AVStream *s = d->fmt->streams[i];
		if (s->duration != AV_NOPTS_VALUE && s->duration > 0)
			dur = fmax(dur, s->duration * av_q2d(s->time_base));
	}
	if (!(dur > 0.05))
		return err_set(e, ERR_INVALID, "no_duration", NULL, "zero or unknown duration");
	if (dur > MAX_DURATION_S)
		return err_set(e, ERR_INVALID, "too_long", NULL, "duration %.1f h is over the 12 h limit",
			       dur / 3600);
	d->duration = dur;
	d->t0 = d->fmt->start_time != AV_NOPTS_VALUE ? (double)d->fmt->start_time / AV_TIME_BASE : 0;

	media_result_t *r = d->res;
	r->duration_s = dur;
	str_copy(r->container, sizeof(r->container), d->fmt->iformat->name);
	if (d->vidx >= 0) {
		AVStream *vs = d->fmt->streams[d->vidx];
		AVCodecParameters *par = vs->codecpar;
		if (par->width <= 0 || par->height <= 0)
			return err_set(e, ERR_INVALID, "bad_video", NULL,
				       "video stream without a frame size");
		if (par->width > MAX_SIDE || par->height > MAX_SIDE)
			return err_set(e, ERR_INVALID, "frame_too_large", NULL,
				       "frame size %dx%d is absurd (at most %d pixels a side)", par->width,
				       par->height, MAX_SIDE);
		AVRational fr = av_guess_frame_rate(d->fmt, vs, NULL);
		d->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
		if (d->fps > 1000)
			d->fps = 0;
		r->width = par->width;
		r->height = par->height;
		r->fps = d->fps;
		str_copy(r->video_codec, sizeof(r->video_codec), avcodec_get_name(par->codec_id));
		if (!open_decoder(par, &d->vdec, true, e))
			return false;
		/* a generous bound on packets: 1000 per second of header duration */
		d->max_pk = (size_t)(dur * 1000) + 10000;
		r->has_video = true;
	}
	if (d->aidx >= 0) {
		AVCodecParameters *par = d->fmt->streams[d->aidx]->codecpar;
		if (par->sample_rate <= 0 || par->sample_rate > 768000 || par->ch_layout.nb_channels <= 0 ||
		    par->ch_layout.nb_channels > 64)
			return err_set(e, ERR_INVALID, "bad_audio", NULL,
				       "audio stream with %d Hz and %d channels", par->sample_rate,
				       par->ch_layout.nb_channels);
		str_copy(r->audio_codec, sizeof(r->audio_codec), avcodec_get_name(par->codec_id));
		if (!open_decoder(par, &d->adec, false, e))
			return false;
		r->has_audio = true;
	}
	if (!r->has_video)
		add_note(r, xstrdup("no video stream: motion, cut and flash signals are absent"));
	if (!r->has_audio)
		add_note(r, xstrdup("no audio stream: loudness and onset signals are absent"));
	d->pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	if (!d->pkt || !d->frame)
		abort();
	return true;
}

static void detect_close(detect_t *d)
{
	avcodec_free_context(&d->adec);
	avcodec_free_context(&d->vdec);
	swr_free(&d->swr);
	sws_freeContext(d->sws);
	av_packet_free(&d->pkt);
	av_frame_free(&d->frame);
	media_input_close(&d->in);
	d->fmt = NULL;
	media_audio_free(d->audio);
	free(d->rs);
	free(d->pk);
	free(d->kf);
	free(d->hud_cur);
	free(d->hud_prev);
	free(d->hud_ev);
	free(d->hud_t);
	media_pixels_cleanup(&d->pix);
	media_features_free(&d->feat);
}

/* ==== Decode ==== */

static bool audio_setup(detect_t *d, const AVFrame *fr, err_t *e)
{
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, in = {0}; /* av_channel_layout_copy reads dst */
	if (av_channel_layout_copy(&in, &fr->ch_layout) < 0 || in.order == AV_CHANNEL_ORDER_UNSPEC) {
		av_channel_layout_uninit(&in);
		av_channel_layout_default(&in, fr->ch_layout.nb_channels);
	}
	int rc = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_FLT, AUDIO_RATE, &in, fr->format,
				     fr->sample_rate, 0, NULL);
	av_channel_layout_uninit(&in);
	if (rc >= 0)
		rc = swr_init(d->swr);
	if (rc < 0)
		return err_set(e, ERR_INVALID, "bad_audio", NULL,
			       "cannot convert the audio (%d Hz, %d channels)", fr->sample_rate,
			       fr->ch_layout.nb_channels);
	return true;
}

static void audio_push(detect_t *d, int n)
{
	if (n <= 0)
		return;
	uint64_t t = time_mono_ns();
	media_audio_push(d->audio, d->rs, (size_t)n);
	d->audio_pos += n;
	d->dsp_ns += time_mono_ns() - t;
}

static bool audio_frame(detect_t *d, AVFrame *fr, err_t *e)
{
	if (!d->swr) {
		if (!audio_setup(d, fr, e))
			return false;
	}
	/* a gap in the stream (or a late start) becomes silence, so audio and video stay aligned */
	if (fr->best_effort_timestamp != AV_NOPTS_VALUE) {
		double ts = fr->best_effort_timestamp * av_q2d(d->fmt->streams[d->aidx]->time_base) - d->t0;
		int64_t want = (int64_t)(fmin(ts, d->duration) * AUDIO_RATE);
		if (want > d->audio_pos + AUDIO_RATE / 10) {
			uint64_t t = time_mono_ns();
			media_audio_push(d->audio, NULL, (size_t)(want - d->audio_pos));
			d->audio_pos = want;
			d->dsp_ns += time_mono_ns() - t;
		}
	}
	int cap = swr_get_out_samples(d->swr, fr->nb_samples);
	if (cap > d->rs_cap) {
		d->rs_cap = cap;
		d->rs = xrealloc(d->rs, (size_t)cap * sizeof(float));
	}
	uint8_t *outp = (uint8_t *)d->rs;
	int n = swr_convert(d->swr, &outp, cap, (const uint8_t **)fr->extended_data, fr->nb_samples);
	audio_push(d, n);
	d->audio_frames++;
	return true;
}

static bool to_gray(detect_t *d, const AVFrame *fr)
{
	d->sws = sws_getCachedContext(d->sws, fr->width, fr->height, fr->format, MEDIA_GRAY_W, MEDIA_GRAY_H,
				      AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
	if (!d->sws)
		return false;
	uint8_t *dst[4] = {d->gray, NULL, NULL, NULL};
	int stride[4] = {MEDIA_GRAY_W, 0, 0, 0};
	return sws_scale(d->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, dst, stride) >
	       0;
}

/*
 * HUD messages. A game prints what the player just did at a fixed place on
 * screen ("You fragged Kyonshi" in OpenArena): white glyphs with a dark
 * outline. The model's region is sampled on a grid of about 270 rows per
 * frame height, straight from the decoded luma plane; a point is a text edge
 * when it is bright and the point one step right or below is dark. A message
 * is on screen when enough points are edges; a new one has appeared when the
 * edges differ from those of the sample before and of the last message (one
 * message replacing another), or when text comes back that is not the last
 * message blinking. Game scenery rarely has bright-next-to-dark edges in
 * numbers; deaths and scoreboards print elsewhere.
 */
static size_t hud_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

static void hud_frame(detect_t *d, const AVFrame *fr, double t)
{
	if (t < d->hud_next)
		return;
	d->hud_next = t + HUD_STEP_S;
	const media_model_t *m = d->model;
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fr->format);
	if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL)) ||
	    desc->comp[0].depth != 8 || desc->comp[0].plane != 0 || desc->comp[0].step != 1 ||
	    fr->linesize[0] <= 0) {
		d->hud_on = false;
		add_note(d->res, xasprintf("%ss are not read: the video's pixel format (%s) is not 8-bit YUV",
					   m->hud.what, desc ? desc->name : "unknown"));
		return;
	}
	if (fr->width != d->hud_w || fr->height != d->hud_h) { /* first frame, or the size changed */
		int s = fr->height / 270 > 1 ? fr->height / 270 : 1;
		int x0 = (int)(m->hud.x0 * fr->width), y0 = (int)(m->hud.y0 * fr->height);
		int x1 = (int)(m->hud.x1 * fr->width), y1 = (int)(m->hud.y1 * fr->height);
		x1 = x1 < fr->width - s ? x1 : fr->width - s; /* the neighbour one step on stays inside */
		y1 = y1 < fr->height - s ? y1 : fr->height - s;
		d->hud_w = fr->width;
		d->hud_h = fr->height;
		d->hud_step = s;
		d->hud_x0 = x0;
		d->hud_y0 = y0;
		d->hud_nx = x1 > x0 ? (x1 - x0 + s - 1) / s : 0;
		d->hud_ny = y1 > y0 ? (y1 - y0 + s - 1) / s : 0;
		size_t n = (size_t)d->hud_nx * (size_t)d->hud_ny;
		free(d->hud_cur);
		free(d->hud_prev);
		free(d->hud_ev);
		d->hud_cur = xcalloc(n + 1, 1);
		d->hud_prev = xcalloc(n + 1, 1);
		d->hud_ev = xcalloc(n + 1, 1);
		d->hud_prev_shown = false;
		d->hud_prev_n = d->hud_ev_n = 0;
	}
	size_t npts = (size_t)d->hud_nx * (size_t)d->hud_ny, on = 0, k = 0;
	if (npts == 0)
		return;
	int s = d->hud_step;
	for (int gy = 0; gy < d->hud_ny; gy++) {
		const uint8_t *row = fr->data[0] + (size_t)(d->hud_y0 + gy * s) * (size_t)fr->linesize[0];
		const uint8_t *below = row + (size_t)s * (size_t)fr->linesize[0];
		for (int gx = 0; gx < d->hud_nx; gx++) {
			int x = d->hud_x0 + gx * s;
			uint8_t edge = row[x] > HUD_BRIGHT && (row[x + s] < HUD_DARK || below[x] < HUD_DARK);
			d->hud_cur[k++] = edge;
			on += edge;
		}
	}
	bool shown = (double)on >= m->hud.min_text * (double)npts;
	if (shown) {
		size_t big = on > d->hud_ev_n ? on : d->hud_ev_n;
		bool like_last =
		    d->n_hud > 0 && hud_diff(d->hud_cur, d->hud_ev, npts) <= HUD_SAME * (double)big;
		bool fresh;
		if (d->hud_prev_shown) {
			size_t bp = on > d->hud_prev_n ? on : d->hud_prev_n;
			fresh = !like_last && hud_diff(d->hud_cur, d->hud_prev, npts) > HUD_SAME * (double)bp;
		} else {
			fresh = !(like_last && t - d->hud_t[d->n_hud - 1] < HUD_HOLD_S);
		}
		if (fresh) {
			if (d->n_hud == d->cap_hud) {
				d->cap_hud = d->cap_hud ? 2 * d->cap_hud : 64;
				d->hud_t = xrealloc(d->hud_t, d->cap_hud * sizeof(double));
			}
			d->hud_t[d->n_hud++] = t;
			memcpy(d->hud_ev, d->hud_cur, npts);
			d->hud_ev_n = on;
		}
	}
	uint8_t *tmp = d->hud_prev;
	d->hud_prev = d->hud_cur;
	d->hud_cur = tmp;
	d->hud_prev_n = on;
	d->hud_prev_shown = shown;
}

static void video_frame(detect_t *d, AVFrame *fr)
{
	d->res->frames_decoded++;
	if (fr->width <= 0 || fr->height <= 0 || fr->width > MAX_SIDE || fr->height > MAX_SIDE)
		return;
	int64_t ts = fr->best_effort_timestamp;
	double t = ts != AV_NOPTS_VALUE ? ts * av_q2d(d->fmt->streams[d->vidx]->time_base) - d->t0 : 0;
	bool key = fr->key_frame || fr->pict_type == AV_PICTURE_TYPE_I;
	bool pix = d->pix_on && t >= d->pix_a - 1e-6 && t <= d->pix_b;
	if (d->hud_on) {
		uint64_t t1 = time_mono_ns();
		hud_frame(d, fr, t);
		d->dsp_ns += time_mono_ns() - t1;
	}
	if (!(key || pix) || !to_gray(d, fr))
		return;
	if (key) {
		if (d->nkf == d->cap_kf) {
			d->cap_kf = d->cap_kf ? 2 * d->cap_kf : 256;
			d->kf = xrealloc(d->kf, d->cap_kf * sizeof(*d->kf));
		}
		int64_t s = 0;
		for (size_t i = 0; i < sizeof(d->gray); i++)
			s += d->gray[i];
		d->kf[d->nkf++] = (media_keyframe_t){.t = t, .luma = (float)s / sizeof(d->gray)};
	}
	if (pix) {
		uint64_t t1 = time_mono_ns();
		media_pixels_feed(&d->pix, &d->feat, t, d->fps, d->gray);
		if (isnan(d->pix_first))
			d->pix_first = t;
		d->pix_last = t;
		d->dsp_ns += time_mono_ns() - t1;
	}
}

/* Sends one packet (or NULL to drain) and handles every frame that comes out. */
static bool decode(detect_t *d, AVCodecContext *c, const AVPacket *p, bool video, err_t *e)
{
	int rc = avcodec_send_packet(c, p);
	if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
		return true; /* a damaged packet: skip it, like a player would */
	for (;;) {
		rc = avcodec_receive_frame(c, d->frame);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return true;
		if (rc < 0)
			return true;
		bool ok = true;
		if (video)
			video_frame(d, d->frame);
		else
			ok = audio_frame(d, d->frame, e);
		av_frame_unref(d->frame);
		if (!ok)
			return false;
	}
}

static double packet_time(detect_t *d, const AVPacket *p)
{
	int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
	if (ts == AV_NOPTS_VALUE)
		return NAN;
	return ts * av_q2d(d->fmt->streams[p->stream_index]->time_base) - d->t0;
}

static bool detect_pass1(detect_t *d, err_t *e)
{
	char eb[128];
	bool all = d->opts && d->opts->decode_all;
	if (d->adec && !(d->audio = media_audio_new(e)))
		return false;
	if (all && d->vdec) {
		d->vdec->skip_frame = AVDISCARD_DEFAULT;
		d->pix_on = true;
		d->pix_a = -1;
		d->pix_b = INFINITY;
	}
	/* a HUD region needs frames all along: the reference frames (every later frame is predicted from
	 * them, so none can be skipped); B-frames and the deblocking filter are not needed to read text */
	d->hud_on = d->vdec && d->model && d->model->hud.on;
	bool hud = d->hud_on;
	if (hud && !all) {
		d->vdec->skip_frame = AVDISCARD_NONREF;
		d->vdec->skip_loop_filter = AVDISCARD_ALL;
	}
	/* the pixel state needs the moment count: sized from the header duration */
	media_features_t tmp = {.n = (size_t)ceil(d->duration / MEDIA_STEP_S) + 1};
	media_pixels_init(&d->pix, &tmp);
	d->feat.n = tmp.n;
	d->feat.pix_cuts = xcalloc(tmp.n, 1);
	d->feat.pix_flash = xcalloc(tmp.n, 1);
	d->pix_first = NAN;

	int rc;
	while ((rc = av_read_frame(d->fmt, d->pkt)) >= 0) {
		AVPacket *p = d->pkt;
		double t = packet_time(d, p);
		bool ok = true;
		if (p->stream_index == d->vidx) {
			if (d->npk >= d->max_pk) {
				av_packet_unref(p);
				return err_set(e, ERR_INVALID, "too_many_frames", NULL,
					       "more video frames than %.0f s can hold", d->duration);
			}
			if (d->npk == d->cap_pk) {
				d->cap_pk = d->cap_pk ? 2 * d->cap_pk : 4096;
				d->pk = xrealloc(d->pk, d->cap_pk * sizeof(*d->pk));
			}
			if (!isnan(t))
				d->pk[d->npk++] = (media_vpacket_t){.t = t,
								    .bytes = (uint32_t)p->size,
								    .key = (p->flags & AV_PKT_FLAG_KEY) != 0};
			if (all || hud || (p->flags & AV_PKT_FLAG_KEY))
				ok = decode(d, d->vdec, p, true, e);
		} else if (p->stream_index == d->aidx) {
			ok = decode(d, d->adec, p, false, e);
		}
		av_packet_unref(p);
		if (!ok)
			return false;
		if (!isnan(t) && (p->stream_index == d->vidx || p->stream_index == d->aidx) &&
		    t > d->data_end)
			d->data_end = t;
		if (!isnan(t) && d->duration > 0)
			progress(d, (int)fmax(1, fmin(84, 84.0 * t / d->duration)), "decode");
	}
	if (rc != AVERROR_EOF)
		return err_set(e, ERR_INVALID, "read_error", NULL, "read error: %s",
			       av_err(rc, eb, sizeof(eb)));
	if (d->vdec && !decode(d, d->vdec, NULL, true, e))
		return false;
	if (d->adec) {
		if (!decode(d, d->adec, NULL, false, e))
			return false;
		if (d->swr) {
			int cap = swr_get_out_samples(d->swr, 0);
			if (cap > d->rs_cap) {
				d->rs_cap = cap;
				d->rs = xrealloc(d->rs, (size_t)cap * sizeof(float));
			}
			uint8_t *outp = (uint8_t *)d->rs;
			audio_push(d, swr_convert(d->swr, &outp, cap, NULL, 0));
		}
	}
	if (d->vidx >= 0 && d->npk == 0)
		return err_set(e, ERR_INVALID, "no_video_data", NULL, "the video stream holds no frames");
	if (d->aidx >= 0 && d->audio_frames == 0 && d->vidx < 0)
		return err_set(e, ERR_INVALID, "undecodable", NULL, "no audio could be decoded");
	/* an upload cut short keeps its header: the data must reach (nearly) the announced end */
	if (d->data_end < d->duration - fmax(2.0, 0.05 * d->duration))
		return err_set(
		    e, ERR_INVALID, "truncated", NULL,
		    "the file is truncated: its audio and video stop at %.1f s of the %.1f s announced",
		    fmax(0, d->data_end), d->duration);
	d->res->video_packets = (int64_t)d->npk;
	if (hud && d->hud_on)
		add_note(d->res, xasprintf("%d %s%s read from the screen", (int)d->n_hud, d->model->hud.what,
					   d->n_hud == 1 ? "" : "s"));
	d->hud_on = false; /* the refine stage's windows are not sampled again */
	return true;
}

static void detect_features(detect_t *d)
{
	uint64_t t = time_mono_ns();
	media_audio_series_t au = {0};
	if (d->audio && d->audio_frames > 0)
		media_audio_finish(d->audio, &au);
	else
		media_audio_free(d->audio);
	d->audio = NULL;
	uint8_t *cuts = d->feat.pix_cuts, *flash = d->feat.pix_flash;
	size_t pn = d->feat.n;
	media_features_build(&d->feat, d->duration, &au, d->pk, d->npk, d->kf, d->nkf);
	/* the pixel counts gathered while decoding (decode_all) move into the new arrays */
	for (size_t i = 0; i < pn && i < d->feat.n; i++) {
		d->feat.pix_cuts[i] = cuts[i];
		d->feat.pix_flash[i] = flash[i];
	}
	free(cuts);
	free(flash);
	/* MEDIA_F_HUD: messages appearing within HUD_WINDOW_S of each moment (times are sorted) */
	for (size_t i = 0, lo = 0; d->n_hud && i < d->feat.n; i++) {
		double tc = (i + 0.5) * MEDIA_STEP_S;
		while (lo < d->n_hud && d->hud_t[lo] < tc - HUD_WINDOW_S)
			lo++;
		size_t hi = lo;
		while (hi < d->n_hud && d->hud_t[hi] <= tc + HUD_WINDOW_S)
			hi++;
		d->feat.raw[i][MEDIA_F_HUD] = (float)(hi - lo);
	}
	if (d->pix_on && !isnan(d->pix_first))
		media_pixels_commit(&d->pix, &d->feat, d->pix_first,
				    d->pix_last + 1.0 / (d->fps > 0 ? d->fps : 30));
	media_audio_series_free(&au);
	d->dsp_ns += time_mono_ns() - t;
}

/* ==== Refine ==== */

/* Decodes [a, b] and analyses its pixels; returns the packets decoded (lead-in included). */
static int64_t refine_window(detect_t *d, double a, double b, int64_t budget)
{
	AVStream *vs = d->fmt->streams[d->vidx];
	int64_t ts = (int64_t)((a + d->t0) / av_q2d(vs->time_base));
	if (av_seek_frame(d->fmt, d->vidx, ts, AVSEEK_FLAG_BACKWARD) < 0)
		return 0;
	avcodec_flush_buffers(d->vdec);
	d->vdec->skip_loop_filter = AVDISCARD_ALL; /* 64x36 gray does not need deblocking */
	d->vdec->skip_frame = AVDISCARD_NONREF;	   /* until the window starts */
	media_pixels_restart(&d->pix, &d->feat);
	d->pix_on = true;
	d->pix_a = a;
	d->pix_b = b;
	d->pix_first = NAN;
	int64_t sent = 0; /* packets, not frames: frame threads make the frame count timing-dependent */
	bool done = false;
	while (!done && av_read_frame(d->fmt, d->pkt) >= 0) {
		AVPacket *p = d->pkt;
		if (p->stream_index == d->vidx) {
			double t = packet_time(d, p);
			if (!isnan(t) && t >= a - 0.3)
				d->vdec->skip_frame = AVDISCARD_DEFAULT;
			if (!isnan(t) && t > b + 0.5)
				done = true; /* past the window, B-frame reordering included */
			else {
				decode(d, d->vdec, p, true, NULL);
				sent++;
			}
			if (sent >= budget)
				done = true;
		}
		av_packet_unref(p);
	}
	avcodec_send_packet(d->vdec, NULL); /* drain what is still in the decoder's threads */
	while (avcodec_receive_frame(d->vdec, d->frame) >= 0) {
		video_frame(d, d->frame);
		av_frame_unref(d->frame);
	}
	d->pix_on = false;
	if (!isnan(d->pix_first))
		media_pixels_commit(&d->pix, &d->feat, d->pix_first,
				    d->pix_last + 1.0 / (d->fps > 0 ? d->fps : 30));
	return sent;
}

/* Frames a refine of [a, b] will decode at most: from the keyframe before a to b (from the packet list). */
static int64_t refine_cost(const detect_t *d, double a, double b)
{
	double key_t = 0;
	for (size_t i = 0; i < d->npk; i++)
		if (d->pk[i].key && d->pk[i].t <= a + 1e-3 && d->pk[i].t > key_t)
			key_t = d->pk[i].t;
	int64_t n = 0;
	for (size_t i = 0; i < d->npk; i++)
		n += d->pk[i].t >= key_t - 1e-3 && d->pk[i].t <= b + 0.5;
	return n;
}

static void detect_refine(detect_t *d, const media_model_t *m)
{
	double budget_share =
	    d->opts && d->opts->refine_budget != 0 ? d->opts->refine_budget : DEFAULT_BUDGET;
	if (budget_share < 0 || d->vidx < 0 || (d->opts && d->opts->decode_all))
		return;
	int64_t budget = (int64_t)(budget_share * (double)d->npk);
	double peaks[MAX_CANDIDATES];
	size_t n = media_candidates(&d->feat, m, peaks, MAX_CANDIDATES);
	size_t nkf_before = d->nkf;
	for (size_t i = 0; i < n && budget > 0; i++) {
		double a = fmax(0, peaks[i] - REFINE_PAD_S), b = fmin(d->duration, peaks[i] + REFINE_PAD_S);
		if (refine_cost(d, a, b) > budget)
			continue; /* a long GOP in front of it: a cheaper candidate may still fit */
		budget -= refine_window(d, a, b, budget);
		progress(d, 85 + (int)(10.0 * (i + 1) / n), "refine");
	}
	d->nkf = nkf_before; /* keyframes met again while refining are not new */
}

/* ==== Public ==== */

static bool run(const char *path, const media_detect_opts_t *opts, const media_model_t *m,
		media_result_t *out, detect_t *d, err_t *e)
{
	uint64_t t_all = time_mono_ns(), t = t_all;
	memset(out, 0, sizeof(*out));
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->opts = opts;
	d->res = out;
	d->model = m;
	d->aidx = d->vidx = -1;
	d->percent = -1;
	d->data_end = -1;
	progress(d, 0, "probe");
	if (!detect_open(d, e))
		return false;
	out->timings_ms.probe = ms_since(t);
	t = time_mono_ns();
	if (!detect_pass1(d, e))
		return false;
	uint64_t pass1 = time_mono_ns() - t, dsp_pass1 = d->dsp_ns;
	d->dsp_ns = 0;
	detect_features(d);
	out->timings_ms.decode = (double)(pass1 - dsp_pass1) / 1e6;
	out->timings_ms.features = (double)(dsp_pass1 + d->dsp_ns) / 1e6;
	out->timings_ms.total = ms_since(t_all);
	return true;
}

bool media_extract_features(const char *path, const media_detect_opts_t *opts, media_features_t *f,
			    media_result_t *meta, err_t *e)
{
	detect_t d;
	memset(f, 0, sizeof(*f));
	bool ok = run(path, opts, opts ? opts->model : NULL, meta, &d, e);
	if (ok) {
		*f = d.feat;
		memset(&d.feat, 0, sizeof(d.feat));
	}
	detect_close(&d);
	if (!ok)
		media_result_free(meta);
	return ok;
}

bool media_detect_highlights(const char *path, const media_detect_opts_t *opts, media_result_t *out, err_t *e)
{
	uint64_t t_all = time_mono_ns();
	media_model_t def;
	const media_model_t *m = opts ? opts->model : NULL;
	if (!m) {
		if (!media_model_default(&def, e)) {
			memset(out, 0, sizeof(*out));
			return false;
		}
		m = &def;
	}
	detect_t d;
	bool ok = run(path, opts, m, out, &d, e);
	if (ok) {
		uint64_t t = time_mono_ns();
		detect_refine(&d, m);
		out->timings_ms.refine = ms_since(t);
		t = time_mono_ns();
		progress(&d, 96, "score");
		media_pick_highlights(&d.feat, m, out);
		str_copy(out->model_version, sizeof(out->model_version), m->version);
		out->timings_ms.scoring = ms_since(t);
		out->timings_ms.total = ms_since(t_all);
		progress(&d, 100, "done");
	}
	detect_close(&d);
	if (!ok)
		media_result_free(out);
	return ok;
}

void media_result_free(media_result_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_highlights; i++) {
		for (size_t j = 0; j < r->highlights[i].n_reasons; j++)
			free(r->highlights[i].reasons[j]);
		free(r->highlights[i].reasons);
	}
	free(r->highlights);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	r->highlights = NULL;
	r->notes = NULL;
	r->n_highlights = r->n_notes = 0;
}
