/*
 * render.c — see render.h. Thumbnails, web proxies and re-encoded clips; the
 * stream-copy path of clips is in render_copy.c.
 *
 * How: one small transcoding engine (job_t) serves the web proxy and clip
 * re-encodes. Per stream ("lane"): decoder → libavfilter graph → encoder →
 * MP4 muxer. The graph is built on the first decoded frame, from that
 * frame's real size, format and sample aspect, so odd inputs (a resolution
 * that differs from the container's claim, non-square pixels) still work;
 * the encoders are opened before that with the fixed output parameters, so
 * the header can be written up front and the graph's last filters pin the
 * output to exactly those parameters.
 *
 * Video graph (clip, blurred fill, watermark):
 *   trim=start:end, setpts=PTS-start/TB, fps=R:start_time=0, trim=end=length
 *   [, scale to square pixels][, transpose/flip for rotation]
 *   , split [bg] scale to cover W/4 x H/4, crop, boxblur, scale W x H
 *           [fg] scale to fit W x H
 *   , overlay centred, drawtext "Cosmiv", format=yuv420p
 * The background is blurred at a quarter of the size: a box blur at full
 * size costs more than the encode; at 1/4 it looks the same once scaled back
 * up, and the whole blurred fill costs ~20% more CPU than a centre crop
 * (1080p30 source to 1080x1920).
 * Audio graph: atrim, asetpts, aresample=48000 (async=1, first_pts=0, so an
 * audio track that starts late is padded and stays in sync), aformat
 * fltp/stereo, and the sink hands out exactly the AAC frame size.
 *
 * Why trim in the graph after a seek: the demuxer seeks to the keyframe at or
 * before the start, everything from there is decoded, and trim/atrim drop
 * what precedes the start frame- and sample-accurately. Timestamps are
 * shifted by the requested start (not by each stream's first timestamp), so
 * audio/video offsets of the source are kept. fps makes the output constant
 * frame rate (capped at 60), which browsers and editors handle best and which
 * makes the duration exact to a frame.
 *
 * Why libx264 veryfast CRF 23: the usual web quality/speed point; a keyframe
 * every 2 s keeps seeking in the player cheap and lets a later clip of the
 * proxy be a stream copy.
 */
#include "media/render.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "core/util.h"
#include "media/probe.h"

#define CODEC_THREADS  2
#define GRAPH_THREADS  2
#define MAX_FPS	       60
#define WEB_SHORT_SIDE 1080
#define WEB_LONG_SIDE  1920
#define AUDIO_RATE     48000
#define AUDIO_BITRATE  128000
#define FONT_PATH      "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
/* Packets this far past the end of a clip mean no more frames inside it can follow. */
#define READ_PAST_END_S 3.0

typedef enum { GEOM_WEB, GEOM_CROP, GEOM_BLUR } geom_t;

/* What to make: fixed before any frame is decoded. */
typedef struct {
	geom_t geom;
	int out_w, out_h;
	bool trim;
	double start_abs, end_abs; /* seconds on the input time line (trim only) */
	double t0;		   /* input time that becomes output time 0 */
	AVRational fps;
	int rotation;
	bool hdr; /* PQ or HLG source: tone-mapped to SDR BT.709 (put_tonemap) */
	bool watermark;
	double total_s; /* for progress */
} plan_t;

typedef struct {
	int index; /* input stream, -1: lane unused */
	AVStream *ist, *ost;
	AVCodecContext *dec, *enc;
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	bool fed_eof;  /* the graph's input is closed */
	bool sink_eof; /* the graph will output nothing more */
	int64_t frames_in;
	int64_t next_pts; /* end of the last frame pushed (input time base) */
	double end_out_s; /* furthest end time written */
} lane_t;

typedef struct {
	const plan_t *plan;
	AVFormatContext *ifmt, *ofmt;
	lane_t v, a;
	AVFrame *frame, *filt;
	AVPacket *pkt, *opkt;
	const media_progress_t *progress;
	int last_pct;
	err_t *e;
} job_t;

/* ---- small helpers ---- */

void media_render_report(const media_progress_t *p, int *last, int percent)
{
	if (percent < 0)
		percent = 0;
	if (percent > 100)
		percent = 100;
	if (!p || !p->fn || percent <= *last)
		return;
	*last = percent;
	p->fn(p->ctx, percent);
}

static bool av_fail(err_t *e, int rc, const char *what)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(rc, msg, sizeof(msg));
	return err_set(e, ERR_INTERNAL, "media_render_failed", NULL, "rendering failed while %s: %s", what,
		       msg);
}

static int even_floor(double v)
{
	int i = (int)floor(v);
	i &= ~1;
	return i < 2 ? 2 : i;
}

static int even_round(double v)
{
	int i = (int)lround(v / 2.0) * 2;
	return i < 2 ? 2 : i;
}

bool media_clip_target_size(int src_w, int src_h, const char *aspect, int *w, int *h)
{
	if (!aspect || src_w <= 0 || src_h <= 0)
		return false;
	int s = even_floor(src_w < src_h ? src_w : src_h);
	if (s > WEB_SHORT_SIDE)
		s = WEB_SHORT_SIDE;
	int l = even_round(s * 16.0 / 9.0);
	if (strcmp(aspect, "16:9") == 0) {
		*w = l;
		*h = s;
	} else if (strcmp(aspect, "9:16") == 0) {
		*w = s;
		*h = l;
	} else if (strcmp(aspect, "1:1") == 0) {
		*w = *h = s;
	} else {
		return false;
	}
	return true;
}

/* The source's frame rate, capped at MAX_FPS; 30 when the container does not say. */
static AVRational output_fps(const AVStream *st)
{
	AVRational r = st->avg_frame_rate;
	if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 1000)
		r = st->r_frame_rate;
	if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 1000 || av_q2d(r) < 1)
		return (AVRational){30, 1};
	if (av_q2d(r) > MAX_FPS)
		return (AVRational){MAX_FPS, 1};
	return r;
}

static bool watermark_has_drawtext(void)
{
	return avfilter_get_by_name("drawtext") && access(FONT_PATH, R_OK) == 0;
}

/* Appends ",<rotation filters>" for a clockwise rotation. */
static void put_rotation(buf_t *b, int rotation)
{
	if (rotation == 90)
		buf_puts(b, ",transpose=clock");
	else if (rotation == 180)
		buf_puts(b, ",hflip,vflip");
	else if (rotation == 270)
		buf_puts(b, ",transpose=cclock");
}

/*
 * The filters that turn a decoded frame (fw x fh, sample aspect sar, stored
 * rotation) into an upright, square-pixel picture; its size goes to dw, dh.
 * Starts with ',' (or is empty).
 */
static void put_upright(buf_t *b, int fw, int fh, AVRational sar, int rotation, int *dw, int *dh)
{
	int w = fw;
	if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
		w = even_round((double)fw * sar.num / sar.den);
		buf_printf(b, ",scale=%d:%d,setsar=1", w, fh);
	}
	put_rotation(b, rotation);
	bool swap = rotation == 90 || rotation == 270;
	*dw = swap ? fh : w;
	*dh = swap ? w : fh;
}

static void put_watermark(buf_t *b, int w, int h)
{
	int s = w < h ? w : h;
	int margin = (int)lround(s * 0.03);
	if (watermark_has_drawtext()) {
		int size = (int)lround(s * 0.045);
		if (size < 10)
			size = 10;
		int sh = size / 16 + 1;
		buf_printf(b,
			   ",drawtext=fontfile=%s:text=Cosmiv:expansion=none:fontsize=%d:fontcolor=white@0.85"
			   ":shadowcolor=black@0.6:shadowx=%d:shadowy=%d:x=w-tw-%d:y=h-th-%d",
			   FONT_PATH, size, sh, sh, margin, margin);
	} else {
		/* No font: a small two-tone badge in the same corner. */
		int bw = (int)lround(s * 0.12), bh = (int)lround(s * 0.04);
		buf_printf(b,
			   ",drawbox=x=iw-%d:y=ih-%d:w=%d:h=%d:color=black@0.5:t=fill"
			   ",drawbox=x=iw-%d:y=ih-%d:w=%d:h=%d:color=white@0.85:t=fill",
			   margin + bw, margin + bh, bw, bh, margin + bw - 2, margin + bh - 2, bw / 3,
			   bh - 4);
	}
}

/* A PQ (HDR10) or HLG source: its code values mean light levels up to 10,000 nits. */
static bool is_hdr(const AVCodecParameters *p)
{
	return p->color_trc == AVCOL_TRC_SMPTE2084 || p->color_trc == AVCOL_TRC_ARIB_STD_B67;
}

/*
 * HDR to SDR BT.709, 8-bit: to linear light (100 nits as 1.0, as SDR white is), the
 * BT.709 primaries, then the Möbius curve, which keeps what is within SDR's range
 * nearly as it is and rolls the highlights off above a knee (a game's HUD and most
 * of its picture sit at SDR levels; Hable's filmic curve darkens all of it: SDR grey
 * came out at Y 89 instead of 126), desat=0 keeping the highlights' colour; then the
 * BT.709 transfer and matrix. Without it the PQ code values are shown as if they
 * were SDR: a dim, washed-out picture. zscale reads the source's transfer, matrix
 * and primaries from each frame.
 */
static void put_tonemap(buf_t *b)
{
	buf_puts(b, ",zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0"
		    ",zscale=t=bt709:m=bt709:r=tv,format=yuv420p");
}

/* The whole video filter graph, from [in] to [out]. */
static char *video_graph_desc(const plan_t *pl, int fw, int fh, AVRational sar)
{
	buf_t b;
	buf_init(&b);
	buf_puts(&b, "[in]null");
	if (pl->trim)
		buf_printf(&b, ",trim=start=%.6f:end=%.6f", pl->start_abs, pl->end_abs);
	buf_printf(&b, ",setpts=PTS-%.6f/TB,fps=fps=%d/%d:start_time=0", pl->t0, pl->fps.num, pl->fps.den);
	/* fps rounds each frame to the nearest slot: cap the count at exactly the clip's length */
	if (pl->trim)
		buf_printf(&b, ",trim=end=%.6f", pl->end_abs - pl->start_abs);
	if (pl->hdr)
		put_tonemap(&b);
	int dw, dh;
	put_upright(&b, fw, fh, sar, pl->rotation, &dw, &dh);
	int W = pl->out_w, H = pl->out_h;
	if (pl->geom == GEOM_WEB) {
		buf_printf(&b, ",scale=%d:%d:flags=bicubic,setsar=1", W, H);
	} else if (pl->geom == GEOM_CROP) {
		/* Largest centred window of the output's aspect, then scale: cheaper than scale-then-crop. */
		double a = (double)W / H;
		int cw = dw, ch = dh;
		if ((double)dw / dh > a)
			cw = even_floor(dh * a);
		else
			ch = even_floor(dw / a);
		if (cw > dw)
			cw = dw;
		if (ch > dh)
			ch = dh;
		buf_printf(&b, ",crop=%d:%d,scale=%d:%d:flags=bicubic,setsar=1", cw, ch, W, H);
	} else {
		int bw = even_round(W / 4.0), bh = even_round(H / 4.0);
		int r = (bw < bh ? bw : bh) / 4 - 1;
		if (r > 10)
			r = 10;
		if (r < 1)
			r = 1;
		buf_printf(
		    &b,
		    ",split=2[bg0][fg0];"
		    "[bg0]scale=%d:%d:force_original_aspect_ratio=increase:flags=fast_bilinear,crop=%d:%d,"
		    "boxblur=luma_radius=%d:luma_power=2,scale=%d:%d:flags=bilinear,setsar=1[bg1];"
		    "[fg0]scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2:flags="
		    "bicubic,"
		    "setsar=1[fg1];"
		    "[bg1][fg1]overlay=x=(W-w)/2:y=(H-h)/2:shortest=1",
		    bw, bh, bw, bh, r, W, H, W, H);
	}
	if (pl->watermark)
		put_watermark(&b, W, H);
	buf_puts(&b, ",format=yuv420p[out]");
	return buf_steal(&b);
}

static char *audio_graph_desc(const plan_t *pl)
{
	buf_t b;
	buf_init(&b);
	buf_puts(&b, "[in]anull");
	if (pl->trim)
		buf_printf(&b, ",atrim=start=%.6f:end=%.6f", pl->start_abs, pl->end_abs);
	buf_printf(&b,
		   ",asetpts=PTS-%.6f/TB,aresample=%d:async=1:first_pts=0"
		   ",aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo[out]",
		   pl->t0, AUDIO_RATE, AUDIO_RATE);
	return buf_steal(&b);
}

/* ---- decoders, graphs, encoders ---- */

static bool open_decoder(AVStream *st, int thread_type, AVCodecContext **out, err_t *e)
{
	if (!media_codec_allowed(st->codecpar->codec_id))
		return err_set(e, ERR_INVALID, "media_codec", NULL, "the codec '%s' is not supported",
			       avcodec_get_name(st->codecpar->codec_id));
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	if (!codec)
		return err_set(e, ERR_INTERNAL, "media_no_decoder", NULL, "no decoder for '%s' in this build",
			       avcodec_get_name(st->codecpar->codec_id));
	AVCodecContext *c = avcodec_alloc_context3(codec);
	if (!c)
		abort();
	int rc = avcodec_parameters_to_context(c, st->codecpar);
	if (rc >= 0) {
		c->pkt_timebase = st->time_base;
		c->thread_count = CODEC_THREADS;
		c->thread_type = thread_type;
		/* A lying header cannot make the decoder allocate more than 8K frames. */
		av_opt_set_int(c, "max_pixels", MEDIA_MAX_DECODE_PIXELS, 0);
		rc = avcodec_open2(c, codec, NULL);
	}
	if (rc < 0) {
		avcodec_free_context(&c);
		return av_fail(e, rc, "opening the decoder");
	}
	*out = c;
	return true;
}

/* Builds "[in] desc [out]" between a source and a sink; frees nothing on failure (the graph owns all). */
static int graph_parse(AVFilterGraph *g, const char *desc, AVFilterContext *src, AVFilterContext *sink)
{
	AVFilterInOut *outs = avfilter_inout_alloc(), *ins = avfilter_inout_alloc();
	if (!outs || !ins)
		abort();
	outs->name = av_strdup("in");
	outs->filter_ctx = src;
	outs->pad_idx = 0;
	outs->next = NULL;
	ins->name = av_strdup("out");
	ins->filter_ctx = sink;
	ins->pad_idx = 0;
	ins->next = NULL;
	int rc = avfilter_graph_parse_ptr(g, desc, &ins, &outs, NULL);
	avfilter_inout_free(&ins);
	avfilter_inout_free(&outs);
	if (rc >= 0)
		rc = avfilter_graph_config(g, NULL);
	return rc;
}

static AVFilterGraph *new_graph(void)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	if (!g)
		abort();
	g->nb_threads = GRAPH_THREADS;
	return g;
}

static bool build_video_graph(lane_t *l, const AVFrame *f, const char *desc, err_t *e)
{
	l->graph = new_graph();
	char args[256];
	AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio : (AVRational){1, 1};
	snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
		 f->width, f->height, f->format, l->ist->time_base.num, l->ist->time_base.den, sar.num,
		 sar.den);
	int rc =
	    avfilter_graph_create_filter(&l->src, avfilter_get_by_name("buffer"), "in", args, NULL, l->graph);
	if (rc >= 0)
		rc = avfilter_graph_create_filter(&l->sink, avfilter_get_by_name("buffersink"), "out", NULL,
						  NULL, l->graph);
	if (rc >= 0)
		rc = graph_parse(l->graph, desc, l->src, l->sink);
	if (rc < 0)
		return av_fail(e, rc, "building the video filters");
	return true;
}

static bool build_audio_graph(lane_t *l, const AVFrame *f, const char *desc, err_t *e)
{
	l->graph = new_graph();
	char layout[128] = "";
	AVChannelLayout cl = {0};
	if (f->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC && f->ch_layout.nb_channels > 0)
		av_channel_layout_copy(&cl, &f->ch_layout);
	else
		av_channel_layout_default(&cl, f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : 2);
	av_channel_layout_describe(&cl, layout, sizeof(layout));
	av_channel_layout_uninit(&cl);
	char args[384];
	snprintf(args, sizeof(args), "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
		 l->ist->time_base.num, l->ist->time_base.den, f->sample_rate,
		 av_get_sample_fmt_name((enum AVSampleFormat)f->format), layout);
	int rc = avfilter_graph_create_filter(&l->src, avfilter_get_by_name("abuffer"), "in", args, NULL,
					      l->graph);
	if (rc >= 0)
		rc = avfilter_graph_create_filter(&l->sink, avfilter_get_by_name("abuffersink"), "out", NULL,
						  NULL, l->graph);
	if (rc >= 0)
		rc = graph_parse(l->graph, desc, l->src, l->sink);
	if (rc < 0)
		return av_fail(e, rc, "building the audio filters");
	av_buffersink_set_frame_size(l->sink, (unsigned)l->enc->frame_size);
	return true;
}

static bool open_video_encoder(job_t *j, err_t *e)
{
	const plan_t *pl = j->plan;
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	if (!codec)
		return err_set(e, ERR_INTERNAL, "media_no_encoder", NULL,
			       "libx264 is not available in this build");
	AVCodecContext *c = avcodec_alloc_context3(codec);
	if (!c)
		abort();
	j->v.enc = c;
	c->width = pl->out_w;
	c->height = pl->out_h;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->sample_aspect_ratio = (AVRational){1, 1};
	c->time_base = av_inv_q(pl->fps);
	c->framerate = pl->fps;
	c->gop_size = (int)lround(2 * av_q2d(pl->fps));
	c->thread_count = CODEC_THREADS;
	c->color_range = AVCOL_RANGE_MPEG;
	/* The filters scale and crop but keep the colour matrix, primaries and transfer (say so),
	 * except for HDR, which they tone-map to BT.709 */
	const AVCodecParameters *ip = j->v.ist->codecpar;
	c->color_primaries = pl->hdr ? AVCOL_PRI_BT709 : ip->color_primaries;
	c->color_trc = pl->hdr ? AVCOL_TRC_BT709 : ip->color_trc;
	c->colorspace = pl->hdr ? AVCOL_SPC_BT709 : ip->color_space;
	if (j->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	AVDictionary *o = NULL;
	av_dict_set(&o, "preset", "veryfast", 0);
	av_dict_set(&o, "crf", "23", 0);
	av_dict_set(&o, "profile", "high", 0);
	int rc = avcodec_open2(c, codec, &o);
	av_dict_free(&o);
	if (rc < 0)
		return av_fail(e, rc, "opening the H.264 encoder");
	return true;
}

static bool open_audio_encoder(job_t *j, err_t *e)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
	if (!codec)
		return err_set(e, ERR_INTERNAL, "media_no_encoder", NULL, "no AAC encoder in this build");
	AVCodecContext *c = avcodec_alloc_context3(codec);
	if (!c)
		abort();
	j->a.enc = c;
	c->sample_rate = AUDIO_RATE;
	c->sample_fmt = AV_SAMPLE_FMT_FLTP;
	av_channel_layout_default(&c->ch_layout, 2);
	c->bit_rate = AUDIO_BITRATE;
	c->time_base = (AVRational){1, AUDIO_RATE};
	c->thread_count = 1;
	if (j->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	int rc = avcodec_open2(c, codec, NULL);
	if (rc < 0)
		return av_fail(e, rc, "opening the AAC encoder");
	return true;
}

static bool add_output_stream(job_t *j, lane_t *l, err_t *e)
{
	l->ost = avformat_new_stream(j->ofmt, NULL);
	if (!l->ost)
		abort();
	l->ost->time_base = l->enc->time_base;
	int rc = avcodec_parameters_from_context(l->ost->codecpar, l->enc);
	if (rc < 0)
		return av_fail(e, rc, "setting up the output");
	return true;
}

/* ---- output file ---- */

void media_render_mp4_opts(AVDictionary **opts)
{
	av_dict_set(opts, "movflags", "+faststart", 0);
}

bool media_render_open_output(const char *path, AVFormatContext **out, err_t *e)
{
	AVFormatContext *o = NULL;
	int rc = avformat_alloc_output_context2(&o, NULL, "mp4", NULL);
	if (rc < 0 || !o)
		return av_fail(e, rc, "creating the MP4 muxer");
	/* faststart re-opens the output by its url to move the index to the front: the file protocol only */
	char *url = xasprintf("file:%s", path);
	o->url = av_strdup(url);
	free(url);
	o->protocol_whitelist = av_strdup("file");
	if (!o->url || !o->protocol_whitelist)
		abort();
	AVDictionary *io = NULL;
	av_dict_set(&io, "protocol_whitelist", "file", 0);
	rc = avio_open2(&o->pb, o->url, AVIO_FLAG_WRITE, NULL, &io);
	av_dict_free(&io);
	if (rc < 0) {
		avformat_free_context(o);
		char msg[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(rc, msg, sizeof(msg));
		return err_set(e, ERR_INTERNAL, "media_output", NULL, "cannot create the output file: %s",
			       msg);
	}
	*out = o;
	return true;
}

void media_render_close_output(AVFormatContext **out, const char *path, bool keep)
{
	if (*out) {
		avio_closep(&(*out)->pb);
		avformat_free_context(*out);
		*out = NULL;
	}
	if (!keep && path)
		unlink(path);
}

/* ---- the engine ---- */

static bool write_packets(job_t *j, lane_t *l)
{
	for (;;) {
		int rc = avcodec_receive_packet(l->enc, j->opkt);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return true;
		if (rc < 0)
			return av_fail(j->e, rc, "encoding");
		j->opkt->stream_index = l->ost->index;
		/* libx264 leaves durations to the muxer, which cannot guess the last one: one frame */
		if (j->opkt->duration <= 0 && l == &j->v)
			j->opkt->duration = av_rescale_q(1, av_inv_q(j->plan->fps), l->enc->time_base);
		av_packet_rescale_ts(j->opkt, l->enc->time_base, l->ost->time_base);
		double end = (double)(j->opkt->pts + j->opkt->duration) * av_q2d(l->ost->time_base);
		if (end > l->end_out_s)
			l->end_out_s = end;
		rc = av_interleaved_write_frame(j->ofmt, j->opkt);
		if (rc < 0)
			return av_fail(j->e, rc, "writing the output");
	}
}

static bool encode(job_t *j, lane_t *l, AVFrame *f)
{
	int rc = avcodec_send_frame(l->enc, f);
	if (rc < 0 && rc != AVERROR_EOF)
		return av_fail(j->e, rc, "encoding");
	return write_packets(j, l);
}

/* Moves every frame the graph has ready to the encoder. */
static bool drain_graph(job_t *j, lane_t *l)
{
	if (!l->graph || l->sink_eof)
		return true;
	for (;;) {
		int rc = av_buffersink_get_frame(l->sink, j->filt);
		if (rc == AVERROR(EAGAIN))
			return true;
		if (rc == AVERROR_EOF) {
			l->sink_eof = true;
			return true;
		}
		if (rc < 0)
			return av_fail(j->e, rc, "filtering");
		AVRational tb = av_buffersink_get_time_base(l->sink);
		j->filt->pts = av_rescale_q(j->filt->pts, tb, l->enc->time_base);
		j->filt->pict_type = AV_PICTURE_TYPE_NONE;
		if (l == &j->v && j->plan->total_s > 0)
			media_render_report(j->progress, &j->last_pct,
					    (int)(99.0 * (double)j->filt->pts * av_q2d(l->enc->time_base) /
						  j->plan->total_s));
		bool ok = encode(j, l, j->filt);
		av_frame_unref(j->filt);
		if (!ok)
			return false;
	}
}

static bool push_frame(job_t *j, lane_t *l, AVFrame *f)
{
	if (l->fed_eof || l->sink_eof)
		return true;
	f->pts = f->best_effort_timestamp;
	if (f->pts == AV_NOPTS_VALUE)
		return true;
	if (!l->graph) {
		char *desc = l == &j->v
				 ? video_graph_desc(j->plan, f->width, f->height, f->sample_aspect_ratio)
				 : audio_graph_desc(j->plan);
		bool ok =
		    l == &j->v ? build_video_graph(l, f, desc, j->e) : build_audio_graph(l, f, desc, j->e);
		free(desc);
		if (!ok)
			return false;
	}
	l->frames_in++;
	int64_t dur = f->pkt_duration > 0 ? f->pkt_duration : 0;
	if (dur == 0 && l == &j->v)
		dur = av_rescale_q(1, av_inv_q(j->plan->fps), l->ist->time_base);
	if (dur == 0 && l == &j->a && f->sample_rate > 0)
		dur = av_rescale_q(f->nb_samples, (AVRational){1, f->sample_rate}, l->ist->time_base);
	if (f->pts + dur > l->next_pts)
		l->next_pts = f->pts + dur;
	int rc = av_buffersrc_add_frame_flags(l->src, f, 0);
	if (rc < 0 && rc != AVERROR_EOF)
		return av_fail(j->e, rc, "filtering");
	return drain_graph(j, l);
}

/* Sends a packet (NULL: flush) to the lane's decoder and pushes what comes out. */
static bool decode(job_t *j, lane_t *l, const AVPacket *pkt)
{
	int rc = avcodec_send_packet(l->dec, pkt);
	/* A damaged packet is skipped, as players do (a file with no decodable frame fails in run_job);
	 * only running out of memory is fatal. */
	if (rc == AVERROR(ENOMEM))
		return av_fail(j->e, rc, "decoding");
	for (;;) {
		rc = avcodec_receive_frame(l->dec, j->frame);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return true;
		if (rc == AVERROR(ENOMEM))
			return av_fail(j->e, rc, "decoding");
		if (rc < 0)
			return true; /* a damaged frame: go on with the next packet */
		bool ok = push_frame(j, l, j->frame);
		av_frame_unref(j->frame);
		if (!ok)
			return false;
	}
}

static bool finish_lane(job_t *j, lane_t *l)
{
	if (l->index < 0)
		return true;
	if (!l->fed_eof && !l->sink_eof && !decode(j, l, NULL))
		return false;
	if (l->graph && !l->fed_eof) {
		l->fed_eof = true;
		/* EOF at the end of the last frame (not its start), so fps keeps that frame */
		int rc = av_buffersrc_close(l->src, l->next_pts, AV_BUFFERSRC_FLAG_PUSH);
		if (rc < 0 && rc != AVERROR_EOF)
			return av_fail(j->e, rc, "filtering");
	}
	if (!drain_graph(j, l))
		return false;
	return encode(j, l, NULL);
}

static void lane_free(lane_t *l)
{
	avcodec_free_context(&l->dec);
	avcodec_free_context(&l->enc);
	avfilter_graph_free(&l->graph);
}

/* Lane of a packet's stream, or NULL. */
static lane_t *lane_of(job_t *j, int stream)
{
	if (stream == j->v.index)
		return &j->v;
	if (stream == j->a.index)
		return &j->a;
	return NULL;
}

static bool lane_done(const lane_t *l)
{
	return l->index < 0 || l->sink_eof || l->fed_eof;
}

/*
 * Runs a plan on an opened input: vi/ai are the input streams (ai -1: no
 * audio). Writes out_path; the output duration goes to *dur_s.
 */
static bool run_job(const plan_t *pl, AVFormatContext *ifmt, int vi, int ai, const char *out_path,
		    const media_progress_t *progress, double *dur_s, err_t *e)
{
	job_t j = {.plan = pl, .ifmt = ifmt, .progress = progress, .last_pct = -1, .e = e};
	j.v.index = vi;
	j.v.next_pts = j.a.next_pts = INT64_MIN;
	j.a.index = ai;
	j.v.ist = ifmt->streams[vi];
	j.a.ist = ai >= 0 ? ifmt->streams[ai] : NULL;
	j.frame = av_frame_alloc();
	j.filt = av_frame_alloc();
	j.pkt = av_packet_alloc();
	j.opkt = av_packet_alloc();
	if (!j.frame || !j.filt || !j.pkt || !j.opkt)
		abort();
	bool ok = false;
	AVDictionary *mux_opts = NULL;

	/* Streams we do not use are not even demuxed. */
	for (unsigned i = 0; i < ifmt->nb_streams; i++)
		ifmt->streams[i]->discard =
		    ((int)i == vi || (int)i == ai) ? AVDISCARD_DEFAULT : AVDISCARD_ALL;

	if (!open_decoder(j.v.ist, FF_THREAD_FRAME | FF_THREAD_SLICE, &j.v.dec, e))
		goto out;
	if (ai >= 0 && !open_decoder(j.a.ist, FF_THREAD_SLICE, &j.a.dec, e))
		goto out;
	if (!media_render_open_output(out_path, &j.ofmt, e))
		goto out;
	if (!open_video_encoder(&j, e) || !add_output_stream(&j, &j.v, e))
		goto out;
	if (ai >= 0 && (!open_audio_encoder(&j, e) || !add_output_stream(&j, &j.a, e)))
		goto out;
	media_render_mp4_opts(&mux_opts);
	int rc = avformat_write_header(j.ofmt, &mux_opts);
	if (rc < 0) {
		av_fail(e, rc, "writing the MP4 header");
		goto out;
	}

	if (pl->trim) {
		int64_t ts = av_rescale_q((int64_t)llround(pl->start_abs * AV_TIME_BASE), AV_TIME_BASE_Q,
					  j.v.ist->time_base);
		rc = avformat_seek_file(ifmt, vi, INT64_MIN, ts, ts, 0);
		if (rc < 0) /* not seekable: read from the start, trim drops what precedes */
			avformat_seek_file(ifmt, -1, INT64_MIN, 0, 0, 0);
	}
	media_render_report(progress, &j.last_pct, 0);

	for (;;) {
		if (lane_done(&j.v) && lane_done(&j.a))
			break;
		rc = av_read_frame(ifmt, j.pkt);
		if (rc == AVERROR_EOF)
			break;
		if (rc < 0) {
			/* A read error mid-file: keep what was decoded, as a player would. */
			break;
		}
		lane_t *l = lane_of(&j, j.pkt->stream_index);
		if (l && !l->sink_eof && !l->fed_eof) {
			int64_t t = j.pkt->dts != AV_NOPTS_VALUE ? j.pkt->dts : j.pkt->pts;
			if (pl->trim && t != AV_NOPTS_VALUE &&
			    (double)t * av_q2d(l->ist->time_base) > pl->end_abs + READ_PAST_END_S) {
				/* past the end: flush this lane now */
				if (!finish_lane(&j, l)) {
					av_packet_unref(j.pkt);
					goto out;
				}
				l->fed_eof = true;
			} else if (!decode(&j, l, j.pkt)) {
				av_packet_unref(j.pkt);
				goto out;
			}
		}
		av_packet_unref(j.pkt);
	}
	if (!finish_lane(&j, &j.v) || !finish_lane(&j, &j.a))
		goto out;
	if (j.v.frames_in == 0) {
		err_set(e, ERR_INVALID, "media_damaged", NULL,
			"the file is truncated or damaged: no video frame could be decoded%s",
			pl->trim ? " in the chosen range" : "");
		goto out;
	}
	rc = av_write_trailer(j.ofmt);
	if (rc < 0) {
		av_fail(e, rc, "finishing the MP4 file");
		goto out;
	}
	*dur_s = j.v.end_out_s > j.a.end_out_s ? j.v.end_out_s : j.a.end_out_s;
	media_render_report(progress, &j.last_pct, 100);
	ok = true;
out:
	av_dict_free(&mux_opts);
	lane_free(&j.v);
	lane_free(&j.a);
	media_render_close_output(&j.ofmt, out_path, ok);
	av_frame_free(&j.frame);
	av_frame_free(&j.filt);
	av_packet_free(&j.pkt);
	av_packet_free(&j.opkt);
	return ok;
}

/* Input time line offset: what a player shows as 0:00. */
static double input_t0(const AVFormatContext *fmt)
{
	return fmt->start_time != AV_NOPTS_VALUE ? (double)fmt->start_time / AV_TIME_BASE : 0.0;
}

static double input_duration(const AVFormatContext *fmt, int vi)
{
	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		return (double)fmt->duration / AV_TIME_BASE;
	const AVStream *st = fmt->streams[vi];
	if (st->duration > 0)
		return (double)st->duration * av_q2d(st->time_base);
	return 0;
}

static bool open_video_input(const char *path, media_input_t *in, int *vi, int *ai, err_t *e)
{
	if (!media_input_open(path, in, e))
		return false;
	media_pick_streams(in->fmt, vi, ai);
	if (*vi < 0) {
		media_input_close(in);
		return err_set(e, ERR_INVALID, *ai >= 0 ? "media_audio_only" : "media_not_video", NULL,
			       *ai >= 0 ? "no video stream: this is an audio-only file"
					: "not a video file: it has no video stream");
	}
	if (*ai >= 0 && !media_codec_allowed(in->fmt->streams[*ai]->codecpar->codec_id))
		*ai = -1; /* probe refuses these; here an odd audio track is dropped rather than fatal */
	return true;
}

/* ---- web proxy ---- */

bool media_transcode_web(const char *in_path, const char *out_mp4, const media_progress_t *p, err_t *e)
{
	media_input_t in;
	int vi, ai;
	if (!open_video_input(in_path, &in, &vi, &ai, e))
		return false;
	AVFormatContext *fmt = in.fmt;
	plan_t pl = {.geom = GEOM_WEB};
	int dw, dh;
	media_display_size(fmt, vi, &dw, &dh);
	if (dw <= 0 || dh <= 0) {
		media_input_close(&in);
		return err_set(e, ERR_INVALID, "media_damaged", NULL,
			       "the file is truncated or damaged: the video size is unknown");
	}
	double shortside = dw < dh ? dw : dh, longside = dw < dh ? dh : dw;
	double f = fmin(1.0, fmin(WEB_SHORT_SIDE / shortside, WEB_LONG_SIDE / longside));
	pl.out_w = even_round(dw * f);
	pl.out_h = even_round(dh * f);
	pl.t0 = input_t0(fmt);
	pl.fps = output_fps(fmt->streams[vi]);
	pl.rotation = media_stream_rotation(fmt, vi);
	pl.hdr = is_hdr(fmt->streams[vi]->codecpar);
	pl.total_s = input_duration(fmt, vi);
	double dur = 0;
	bool ok = run_job(&pl, fmt, vi, ai, out_mp4, p, &dur, e);
	media_input_close(&in);
	return ok;
}

/* ---- clips ---- */

static bool validate_clip(const media_clip_req_t *r, geom_t *geom, err_t *e)
{
	if (!r->in_path || !r->out_path)
		return err_set(e, ERR_BAD_REQUEST, "media_bad_request", NULL,
			       "input and output paths are required");
	if (!isfinite(r->start_s) || r->start_s < 0)
		return err_set(e, ERR_INVALID, "clip_bad_start", "start_s",
			       "the start must be 0 or more seconds");
	if (!isfinite(r->end_s) || r->end_s <= r->start_s)
		return err_set(e, ERR_INVALID, "clip_bad_end", "end_s", "the end must be after the start");
	if (r->end_s - r->start_s < 0.5)
		return err_set(e, ERR_INVALID, "clip_too_short", "end_s",
			       "a clip must be at least 0.5 s long");
	int w, h;
	if (!media_clip_target_size(16, 9, r->aspect, &w, &h))
		return err_set(e, ERR_INVALID, "clip_bad_aspect", "aspect",
			       "the aspect must be \"16:9\", \"9:16\" or \"1:1\"");
	const char *fill = r->fill ? r->fill : "crop";
	if (strcmp(fill, "crop") == 0)
		*geom = GEOM_CROP;
	else if (strcmp(fill, "blur") == 0)
		*geom = GEOM_BLUR;
	else
		return err_set(e, ERR_INVALID, "clip_bad_fill", "fill",
			       "the fill must be \"crop\" or \"blur\"");
	return true;
}

static bool copy_eligible(const AVFormatContext *fmt, int vi, int ai, const media_clip_req_t *r)
{
	if (r->watermark)
		return false;
	const AVCodecParameters *v = fmt->streams[vi]->codecpar;
	if (v->codec_id != AV_CODEC_ID_H264 || v->format != AV_PIX_FMT_YUV420P || is_hdr(v))
		return false; /* HDR is tone-mapped, so re-encoded */
	if (ai >= 0 && fmt->streams[ai]->codecpar->codec_id != AV_CODEC_ID_AAC)
		return false;
	int dw, dh, tw, th;
	media_display_size(fmt, vi, &dw, &dh);
	if (dw <= 0 || dh <= 0 || !media_clip_target_size(dw, dh, r->aspect, &tw, &th))
		return false;
	double src = (double)dw / dh, dst = (double)tw / th;
	return fabs(src / dst - 1.0) <= 0.01;
}

bool media_render_clip(const media_clip_req_t *req, media_clip_result_t *out, err_t *e)
{
	uint64_t t_start = time_mono_ns();
	memset(out, 0, sizeof(*out));
	geom_t geom = GEOM_CROP;
	if (!validate_clip(req, &geom, e))
		return false;
	media_input_t in;
	int vi, ai;
	if (!open_video_input(req->in_path, &in, &vi, &ai, e))
		return false;
	AVFormatContext *fmt = in.fmt;
	bool ok = false;
	double duration = input_duration(fmt, vi);
	double end_s = req->end_s;
	if (duration > 0 && end_s > duration) {
		if (end_s - duration > 0.5) {
			char have[32];
			media_format_duration(duration, have);
			err_set(e, ERR_INVALID, "clip_bad_end", "end_s",
				"the clip ends at %.1f s but the video is only %.1f s (%s) long", end_s,
				duration, have);
			goto out;
		}
		end_s = duration; /* rounding of the player's time line */
	}
	if (duration > 0 && req->start_s >= duration - 0.25) {
		err_set(e, ERR_INVALID, "clip_bad_start", "start_s",
			"the clip starts after the end of the video");
		goto out;
	}
	double t0 = input_t0(fmt);
	int dw, dh;
	media_display_size(fmt, vi, &dw, &dh);

	if (copy_eligible(fmt, vi, ai, req)) {
		int rc = media_render_try_copy(fmt, vi, ai, req->start_s + t0, end_s + t0, req->out_path,
					       req->progress, out, e);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			out->copied = true;
			ok = true;
			goto out;
		}
	}

	plan_t pl = {.geom = geom, .trim = true, .watermark = req->watermark};
	media_clip_target_size(dw, dh, req->aspect, &pl.out_w, &pl.out_h);
	pl.start_abs = req->start_s + t0;
	pl.end_abs = end_s + t0;
	pl.t0 = pl.start_abs;
	pl.fps = output_fps(fmt->streams[vi]);
	pl.rotation = media_stream_rotation(fmt, vi);
	pl.hdr = is_hdr(fmt->streams[vi]->codecpar);
	pl.total_s = end_s - req->start_s;
	if (!run_job(&pl, fmt, vi, ai, req->out_path, req->progress, &out->duration_s, e))
		goto out;
	out->width = pl.out_w;
	out->height = pl.out_h;
	out->copied = false;
	ok = true;
out:
	media_input_close(&in);
	out->ms = (int64_t)((time_mono_ns() - t_start) / 1000000u);
	return ok;
}

/* ---- thumbnails ---- */

static bool encode_jpeg(const AVFrame *f, const char *path, err_t *e)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	if (!codec)
		return err_set(e, ERR_INTERNAL, "media_no_encoder", NULL, "no JPEG encoder in this build");
	AVCodecContext *c = avcodec_alloc_context3(codec);
	AVPacket *pkt = av_packet_alloc();
	if (!c || !pkt)
		abort();
	c->width = f->width;
	c->height = f->height;
	c->pix_fmt = AV_PIX_FMT_YUVJ420P;
	c->color_range = AVCOL_RANGE_JPEG;
	c->time_base = (AVRational){1, 25};
	c->flags |= AV_CODEC_FLAG_QSCALE;
	c->global_quality = FF_QP2LAMBDA * 3;
	c->thread_count = 1;
	bool ok = false;
	int rc = avcodec_open2(c, codec, NULL);
	if (rc >= 0)
		rc = avcodec_send_frame(c, f);
	if (rc >= 0)
		rc = avcodec_send_frame(c, NULL);
	if (rc >= 0)
		rc = avcodec_receive_packet(c, pkt);
	if (rc < 0) {
		av_fail(e, rc, "encoding the JPEG");
		goto out;
	}
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		err_set(e, ERR_INTERNAL, "media_output", NULL, "cannot create the thumbnail file: %s",
			strerror(errno));
		goto out;
	}
	bool wrote = fwrite(pkt->data, 1, (size_t)pkt->size, fp) == (size_t)pkt->size;
	if (fclose(fp) != 0 || !wrote) {
		unlink(path);
		err_set(e, ERR_INTERNAL, "media_output", NULL, "cannot write the thumbnail file");
		goto out;
	}
	ok = true;
out:
	av_packet_free(&pkt);
	avcodec_free_context(&c);
	return ok;
}

/* The frame shown at `ts` (stream time base): decoded from the keyframe before it. */
static bool decode_frame_at(AVFormatContext *fmt, AVCodecContext *dec, int vi, int64_t ts, AVFrame *best,
			    err_t *e)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	if (!pkt || !f)
		abort();
	if (avformat_seek_file(fmt, vi, INT64_MIN, ts, ts, 0) < 0)
		avformat_seek_file(fmt, -1, INT64_MIN, 0, 0, 0);
	bool have = false, done = false, eof = false;
	int frames = 0;
	/* Bounded: at most ~20 s at 60 fps are decoded looking for the frame. */
	while (!done && frames < 1200) {
		if (!eof) {
			if (av_read_frame(fmt, pkt) < 0) {
				eof = true;
				avcodec_send_packet(dec, NULL);
			} else if (pkt->stream_index != vi) {
				av_packet_unref(pkt);
				continue;
			} else {
				avcodec_send_packet(dec, pkt); /* a damaged packet is skipped */
				av_packet_unref(pkt);
			}
		}
		for (;;) {
			int rc = avcodec_receive_frame(dec, f);
			if (rc == AVERROR(EAGAIN))
				break;
			if (rc == AVERROR_EOF) {
				done = true;
				break;
			}
			if (rc < 0)
				break;
			frames++;
			int64_t pts = f->best_effort_timestamp;
			/* Keep the last frame at or before ts; the first one after it if none is. */
			if (!have || pts == AV_NOPTS_VALUE || pts <= ts) {
				av_frame_unref(best);
				av_frame_move_ref(best, f);
				have = true;
			} else {
				av_frame_unref(f);
			}
			if (pts != AV_NOPTS_VALUE && pts >= ts) {
				done = true;
				break;
			}
		}
		if (eof) /* the flush above was drained to its end */
			done = true;
	}
	av_packet_free(&pkt);
	av_frame_free(&f);
	if (!have)
		return err_set(e, ERR_INVALID, "media_damaged", NULL,
			       "the file is truncated or damaged: no video frame could be decoded");
	return true;
}

bool media_thumbnail(const char *in_path, const char *out_jpeg, double at_s, int max_width, err_t *e)
{
	media_input_t in;
	int vi, ai;
	if (!open_video_input(in_path, &in, &vi, &ai, e))
		return false;
	AVFormatContext *fmt = in.fmt;
	AVStream *st = fmt->streams[vi];
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		fmt->streams[i]->discard = (int)i == vi ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	AVCodecContext *dec = NULL;
	AVFrame *frame = av_frame_alloc(), *out = av_frame_alloc();
	AVFilterGraph *g = NULL;
	bool ok = false;
	if (!frame || !out)
		abort();
	if (!open_decoder(st, FF_THREAD_SLICE, &dec, e))
		goto done;

	double dur = input_duration(fmt, vi);
	double fps = av_q2d(output_fps(st));
	if (!isfinite(at_s) || at_s < 0)
		at_s = 0;
	if (dur > 0 && at_s > dur - 2.0 / fps)
		at_s = fmax(0, dur - 2.0 / fps);
	double abs_s = at_s + input_t0(fmt);
	int64_t ts = av_rescale_q((int64_t)llround(abs_s * AV_TIME_BASE), AV_TIME_BASE_Q, st->time_base);
	if (!decode_frame_at(fmt, dec, vi, ts, frame, e))
		goto done;

	int rot = media_stream_rotation(fmt, vi), dw, dh;
	buf_t b;
	buf_init(&b);
	buf_puts(&b, "[in]null");
	if (is_hdr(st->codecpar))
		put_tonemap(&b);
	put_upright(&b, frame->width, frame->height, frame->sample_aspect_ratio, rot, &dw, &dh);
	int w = dw, h = dh;
	if (max_width > 0 && w > max_width) {
		w = even_round(max_width);
		if (w > max_width)
			w -= 2;
		h = even_round((double)dh * w / dw);
	}
	/* JPEG means BT.601 full range: convert the matrix too (the frame says which it has), or a
	 * BT.709 source comes out with its colours shifted */
	buf_printf(
	    &b,
	    ",scale=%d:%d:flags=bicubic:out_color_matrix=bt601:out_range=full,setsar=1,format=yuvj420p[out]",
	    w, h);
	lane_t l = {.ist = st};
	ok = build_video_graph(&l, frame, b.data, e);
	buf_cleanup(&b);
	g = l.graph;
	if (!ok)
		goto done;
	ok = false;
	int rc = av_buffersrc_add_frame_flags(l.src, frame, 0);
	if (rc >= 0)
		rc = av_buffersrc_add_frame_flags(l.src, NULL, 0);
	if (rc >= 0)
		rc = av_buffersink_get_frame(l.sink, out);
	if (rc < 0) {
		av_fail(e, rc, "scaling the thumbnail");
		goto done;
	}
	ok = encode_jpeg(out, out_jpeg, e);
done:
	avfilter_graph_free(&g);
	avcodec_free_context(&dec);
	av_frame_free(&frame);
	av_frame_free(&out);
	media_input_close(&in);
	return ok;
}
