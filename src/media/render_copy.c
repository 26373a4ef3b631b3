/*
 * render_copy.c — the stream-copy path of media_render_clip (see render.h).
 *
 * What: when the source is already what we would produce (H.264 yuv420p +
 * AAC, right aspect) and the cut starts on a keyframe, the clip is a remux of
 * the packets in [start, end): no decode, no encode, no quality loss, and
 * about a hundred times faster than a re-encode.
 *
 * How:
 *   1. Seek to the keyframe at or before the start (AVSEEK_FLAG_BACKWARD on
 *      the video stream) and read the first video packet. If it is a keyframe
 *      whose time is within one frame of the start, the cut can start there;
 *      otherwise report "not copyable" and the caller re-encodes.
 *   2. Seek again and copy. Output time 0 is the keyframe's time, for audio
 *      too, so A/V sync is kept. Audio packets before it are dropped (at most
 *      one AAC frame, ~21 ms, is lost at the start).
 *   3. The end: packets come in decode order, where a reference frame shown
 *      after the end can precede B-frames shown before it. From the first
 *      video packet shown at or after the end, packets are held back until
 *      the decode time reaches the end (then no frame shown before the end
 *      can follow, since pts >= dts). Then either the held packets up to the
 *      last one shown before the end are written (with the references they
 *      need, shown a frame or two past the end) or none are (the video stops
 *      a frame or two early): whichever is closer to the requested end. With
 *      closed GOPs and an end on a keyframe the cut is exact.
 *   The display matrix (rotation) is copied, so phone videos stay upright.
 *
 * Why seek twice: the check must not write anything (an output is created
 * only when copying), and a second seek to the same position is cheap.
 */
#include "media/render.h"

#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "core/util.h"
#include "media/probe.h"

/* Video packets held back around the end (B-pyramids need a few). */
#define MAX_TAIL 32

typedef struct {
	AVFormatContext *in, *out;
	int vi, ai;
	AVStream *ost_v, *ost_a;
	int64_t off_v, off_a; /* input timestamps that become 0 */
	double end_v_s, end_a_s;
} copy_t;

static double frame_duration(const AVStream *st)
{
	AVRational r =
	    st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
	double fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 30.0;
	if (!(fps >= 1 && fps <= 1000))
		fps = 30.0;
	return 1.0 / fps;
}

static int64_t pkt_time(const AVPacket *p)
{
	return p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
}

/*
 * The last keyframe shown at or before `target` (input seconds): its
 * timestamp goes to *kf_pts, and the seek that reaches it to *seek_ts.
 * Index-based demuxers (MP4, MKV) land on it directly; MPEG-TS and FLV seek
 * by a timestamp search that can land after it, so the seek point is moved
 * back (1 s, then 5 s) until a keyframe turns up before the target.
 */
static bool find_keyframe(AVFormatContext *fmt, int vi, double target, int64_t *kf_pts, int64_t *seek_ts)
{
	static const double back_s[] = {0, 1, 5};
	AVStream *st = fmt->streams[vi];
	int64_t limit = av_rescale_q((int64_t)llround(target * AV_TIME_BASE), AV_TIME_BASE_Q, st->time_base);
	AVPacket *pkt = av_packet_alloc();
	if (!pkt)
		abort();
	bool found = false;
	for (size_t i = 0; i < ARRAY_LEN(back_s) && !found; i++) {
		int64_t ts = av_rescale_q((int64_t)llround((target - back_s[i]) * AV_TIME_BASE),
					  AV_TIME_BASE_Q, st->time_base);
		if (av_seek_frame(fmt, vi, ts, AVSEEK_FLAG_BACKWARD) < 0)
			break;
		for (int n = 0; n < 5000 && av_read_frame(fmt, pkt) >= 0; n++) {
			int64_t pt = pkt_time(pkt);
			bool mine = pkt->stream_index == vi && pt != AV_NOPTS_VALUE;
			bool key = mine && (pkt->flags & AV_PKT_FLAG_KEY);
			av_packet_unref(pkt);
			if (mine && pt > limit)
				break;
			if (key) {
				*kf_pts = pt;
				*seek_ts = ts;
				found = true;
			}
		}
	}
	av_packet_free(&pkt);
	return found;
}

static AVStream *copy_stream(AVFormatContext *out, const AVStream *ist, err_t *e)
{
	AVStream *ost = avformat_new_stream(out, NULL);
	if (!ost)
		abort();
	int rc = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
	if (rc < 0) {
		err_set(e, ERR_INTERNAL, "media_render_failed", NULL,
			"rendering failed while setting up the copy");
		return NULL;
	}
	ost->codecpar->codec_tag = 0;
	ost->time_base = ist->time_base;
	size_t size = 0;
	const uint8_t *m = av_stream_get_side_data(ist, AV_PKT_DATA_DISPLAYMATRIX, &size);
	if (m && size) {
		uint8_t *dst = av_stream_new_side_data(ost, AV_PKT_DATA_DISPLAYMATRIX, size);
		if (!dst)
			abort();
		memcpy(dst, m, size);
	}
	return ost;
}

static bool write_copied(copy_t *c, AVPacket *pkt, bool video, err_t *e)
{
	const AVStream *ist = c->in->streams[pkt->stream_index];
	AVStream *ost = video ? c->ost_v : c->ost_a;
	int64_t off = video ? c->off_v : c->off_a;
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts -= off;
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts -= off;
	av_packet_rescale_ts(pkt, ist->time_base, ost->time_base);
	pkt->stream_index = ost->index;
	pkt->pos = -1;
	int64_t t = pkt_time(pkt);
	if (t != AV_NOPTS_VALUE) {
		double end = (double)(t + pkt->duration) * av_q2d(ost->time_base);
		double *track_end = video ? &c->end_v_s : &c->end_a_s;
		if (end > *track_end)
			*track_end = end;
	}
	int rc = av_interleaved_write_frame(c->out, pkt);
	if (rc < 0) {
		char msg[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(rc, msg, sizeof(msg));
		return err_set(e, ERR_INTERNAL, "media_render_failed", NULL,
			       "rendering failed while copying: %s", msg);
	}
	return true;
}

/*
 * The end of the cut. tail[] holds the video packets from the first one shown
 * at or after the end up to the one whose decode time reaches it. Either
 * write the tail's packets up to the last one shown before the end (the
 * earlier ones are references it needs, some shown after the end), or none
 * of them: whichever ends the video closer to the requested end.
 */
static bool write_tail(copy_t *c, AVPacket **tail, int ntail, int64_t end_v, err_t *e)
{
	const AVStream *vst = c->in->streams[c->vi];
	int last = -1;
	int64_t end_with = 0;
	for (int i = 0; i < ntail; i++) {
		if (pkt_time(tail[i]) < end_v)
			last = i;
	}
	if (last < 0)
		return true;
	for (int i = 0; i <= last; i++) {
		int64_t t = pkt_time(tail[i]) + tail[i]->duration - c->off_v;
		if (t > end_with)
			end_with = t;
	}
	double with_s = (double)end_with * av_q2d(vst->time_base);
	double target_s = (double)(end_v - c->off_v) * av_q2d(vst->time_base);
	if (with_s < c->end_v_s || fabs(with_s - target_s) > fabs(c->end_v_s - target_s))
		return true;
	for (int i = 0; i <= last; i++)
		if (!write_copied(c, tail[i], true, e))
			return false;
	return true;
}

int media_render_try_copy(AVFormatContext *fmt, int vi, int ai, double start_abs, double end_abs,
			  const char *out_path, const media_progress_t *p, media_clip_result_t *res, err_t *e)
{
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		fmt->streams[i]->discard = ((int)i == vi || (int)i == ai) ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	AVStream *vst = fmt->streams[vi];
	/* Seeking to start + one frame also finds a keyframe a fraction of a frame after the start
	 * (muxers shift timestamps by the B-frame delay: 1.023 s for a keyframe "at" 1 s). */
	double fd = frame_duration(vst);
	int64_t kf_pts = 0, seek_ts = 0;
	if (!find_keyframe(fmt, vi, start_abs + fd, &kf_pts, &seek_ts))
		return 0;
	double kf = (double)kf_pts * av_q2d(vst->time_base);
	if (fabs(kf - start_abs) > fd + 1e-3)
		return 0;

	copy_t c = {.in = fmt, .vi = vi, .ai = ai};
	AVPacket *pkt = av_packet_alloc();
	AVPacket *tail[MAX_TAIL];
	int ntail = 0, last_pct = -1, rc;
	bool ok = false;
	AVDictionary *opts = NULL;
	if (!pkt)
		abort();
	if (!media_render_open_output(out_path, &c.out, e))
		goto out;
	c.ost_v = copy_stream(c.out, vst, e);
	if (!c.ost_v)
		goto out;
	if (ai >= 0 && !(c.ost_a = copy_stream(c.out, fmt->streams[ai], e)))
		goto out;
	media_render_mp4_opts(&opts);
	rc = avformat_write_header(c.out, &opts);
	if (rc < 0) {
		err_set(e, ERR_INTERNAL, "media_render_failed", NULL,
			"rendering failed while writing the header");
		goto out;
	}

	if (av_seek_frame(fmt, vi, seek_ts, AVSEEK_FLAG_BACKWARD) < 0) {
		err_set(e, ERR_INTERNAL, "media_render_failed", NULL,
			"rendering failed: the input cannot seek");
		goto out;
	}
	c.off_v = kf_pts;
	int64_t end_v =
	    av_rescale_q((int64_t)llround(end_abs * AV_TIME_BASE), AV_TIME_BASE_Q, vst->time_base);
	int64_t end_a = 0;
	if (ai >= 0) {
		AVRational atb = fmt->streams[ai]->time_base;
		c.off_a = av_rescale_q(c.off_v, vst->time_base, atb);
		end_a = av_rescale_q(end_v, vst->time_base, atb);
	}
	bool v_done = false, a_done = ai < 0, v_started = false;
	double span = end_abs - kf;
	media_render_report(p, &last_pct, 0);

	while (!(v_done && a_done) && av_read_frame(fmt, pkt) >= 0) {
		int64_t t = pkt_time(pkt);
		if (pkt->stream_index == vi && !v_done && t != AV_NOPTS_VALUE) {
			/* from the seek point up to the keyframe found above (MPEG-TS, FLV) */
			if (!v_started && (pkt->flags & AV_PKT_FLAG_KEY) && t == c.off_v)
				v_started = true;
			if (!v_started) {
				/* skipped */
			} else if (pkt->dts != AV_NOPTS_VALUE && pkt->dts >= end_v) {
				v_done = true; /* nothing shown before the end can follow: pts >= dts */
			} else if (t < c.off_v) {
				/* a leading frame of an open GOP: it needs the previous GOP */
			} else if (t >= end_v || ntail > 0) {
				if (ntail == MAX_TAIL)
					v_done = true;
				else if (!(tail[ntail++] = av_packet_clone(pkt)))
					abort();
			} else {
				if (!write_copied(&c, pkt, true, e))
					goto out;
				if (span > 0)
					media_render_report(
					    p, &last_pct,
					    (int)(99.0 * ((double)(t - c.off_v) * av_q2d(vst->time_base)) /
						  span));
			}
		} else if (pkt->stream_index == ai && !a_done && t != AV_NOPTS_VALUE) {
			if (t >= end_a)
				a_done = true;
			else if (t >= c.off_a && !write_copied(&c, pkt, false, e))
				goto out;
		}
		av_packet_unref(pkt);
	}
	if (!write_tail(&c, tail, ntail, end_v, e))
		goto out;
	rc = av_write_trailer(c.out);
	if (rc < 0) {
		err_set(e, ERR_INTERNAL, "media_render_failed", NULL,
			"rendering failed while finishing the file");
		goto out;
	}
	media_display_size(fmt, vi, &res->width, &res->height);
	res->duration_s = c.end_v_s > c.end_a_s ? c.end_v_s : c.end_a_s;
	media_render_report(p, &last_pct, 100);
	ok = true;
out:
	for (int i = 0; i < ntail; i++)
		av_packet_free(&tail[i]);
	av_packet_unref(pkt);
	av_packet_free(&pkt);
	av_dict_free(&opts);
	media_render_close_output(&c.out, out_path, ok);
	return ok ? 1 : -1;
}
