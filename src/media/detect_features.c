/*
 * detect_features.c — from measurements to per-moment features.
 *
 * What: one feature row every MEDIA_STEP_S (0.5 s) — see the MEDIA_F_* list
 * in detect.h — from three cheap sources: the audio series of
 * detect_audio.c, the size and key flag of every video packet, and the mean
 * luma of the keyframes; plus, where frames were decoded, pixel evidence.
 *
 * How: everything is relative. A moment is judged against the 10 s before
 * it (the median, so one earlier explosion does not mask the next), which
 * makes the features independent of the recording level, the resolution
 * and the bitrate:
 *   - loudness jump: the loudest 400 ms around the moment over the baseline;
 *   - motion: the compressed size of the frames around the moment over the
 *     baseline. Encoders spend bits on what changes, so fast pans, shakes
 *     and explosions cost more bits per frame; a frozen picture costs almost
 *     none. This is the trick that lets the detector skip decoding: it reads
 *     motion from packet headers;
 *   - discontinuities: keyframes out of the encoder's regular cadence
 *     (x264, x265 and libvpx insert one at a scene change) and non-key
 *     frames four times the usual size. They cannot tell a cut from a
 *     flash; the pixel analysis (media_pixels_*) can, and replaces them
 *     where frames were decoded.
 * Pixel analysis compares consecutive 64x36 gray frames: a cut changes the
 * histogram (L1 distance > 0.5) and most pixels; a flash raises the mean
 * luma by 35+ to a bright frame, and the return to the picture before it is
 * not another cut.
 */
#include "media/detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define BASE_S	      10.0 /* baseline: the previous 10 s */
#define CUT_RATIO     4.0  /* a non-key frame this many times the usual size is a discontinuity */
#define MERGE_EVENT_S 0.15 /* discontinuities closer than this are one */

static size_t clampz(double x, size_t n)
{
	if (x <= 0)
		return 0;
	if (x >= (double)n)
		return n;
	return (size_t)x;
}

/* ==== Baselines ==== */

/*
 * Baseline of a per-moment series: the median of the previous 10 s (the
 * first 10 s at the very start), but never under `floor_share` of the whole
 * file's median, so that the return from a frozen or silent stretch is not a
 * "burst". Values <= skip_le are missing and ignored.
 */
static void baseline(const float *x, size_t n, float skip_le, float floor_val, float *out, float *scratch)
{
	size_t base_m = (size_t)(BASE_S / MEDIA_STEP_S);
	for (size_t i = 0; i < n; i++) {
		size_t m0 = i > base_m ? i - base_m : 0, m1 = i;
		if (m1 - m0 < 2) {
			m0 = 0;
			m1 = base_m < n ? base_m : n;
		}
		size_t k = 0;
		for (size_t m = m0; m < m1; m++)
			if (x[m] > skip_le)
				scratch[k++] = x[m];
		float b = k ? media_median(scratch, k, scratch + k) : floor_val;
		out[i] = b > floor_val ? b : floor_val;
	}
}

static float file_median(const float *x, size_t n, float skip_le, float *scratch)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (x[i] > skip_le)
			scratch[k++] = x[i];
	return k ? media_median(scratch, k, scratch + k) : skip_le;
}

/* ==== Audio features ==== */

static void audio_features(media_features_t *f, const media_audio_series_t *au)
{
	size_t n = f->n, bpm = (size_t)lround(MEDIA_STEP_S / au->block_s); /* blocks per moment */
	size_t nb = au->n, base_m = (size_t)(BASE_S / MEDIA_STEP_S);
	float *med = xcalloc(n, sizeof(float)); /* median momentary loudness per moment */
	float *ons = xcalloc(n, sizeof(float)); /* onsets within ±1 s */
	float *scratch = xmalloc((2 * (nb + n) + 64) * sizeof(float));
	float file_med = media_median(au->mom, nb, scratch);

	for (size_t i = 0; i < n; i++) {
		size_t b0 = i * bpm, b1 = b0 + bpm < nb ? b0 + bpm : nb;
		med[i] = b0 < b1 ? media_median(au->mom + b0, b1 - b0, scratch) : -120.0f;
	}
	/* loudness baseline: never under the file's typical level - 6 dB (a return from silence is no spike)
	 */
	float *base = xcalloc(n, sizeof(float));
	baseline(med, n, -119.0f, file_median(med, n, -119.0f, scratch) - 6.0f, base, scratch);
	for (size_t i = 0; i < n; i++) {
		double c = (i + 0.5) * MEDIA_STEP_S;
		size_t lo = clampz((c - 1.0) / au->block_s, nb), hi = clampz((c + 1.0) / au->block_s, nb);
		int cnt = 0;
		for (size_t b = lo; b < hi; b++)
			cnt += au->onset[b];
		ons[i] = (float)cnt;
	}
	for (size_t i = 0; i < n; i++) {
		double c = (i + 0.5) * MEDIA_STEP_S;
		float *row = f->raw[i];
		/* loudest 400 ms in ±0.5 s (the momentary value lags by 0.2 s: look 0.2 s further) */
		size_t lo = clampz((c - 0.5) / au->block_s, nb), hi = clampz((c + 0.7) / au->block_s, nb);
		float peak = -120.0f;
		for (size_t b = lo; b < hi; b++)
			if (au->mom[b] > peak)
				peak = au->mom[b];
		row[MEDIA_F_LOUD_JUMP] = hi > lo ? peak - base[i] : 0.0f;
		row[MEDIA_F_ONSETS] = ons[i];
		size_t o0 = i > base_m + 2 ? i - base_m - 2 : 0, o1 = i > 2 ? i - 2 : 0;
		row[MEDIA_F_ONSET_EXCESS] =
		    o1 > o0 + 4 ? ons[i] - media_median(ons + o0, o1 - o0, scratch) : 0.0f;
		/* spread of 50 ms loudness within ±1 s */
		lo = clampz((c - 1.0) / au->block_s, nb);
		hi = clampz((c + 1.0) / au->block_s, nb);
		if (hi > lo + 4) {
			media_median(au->loud + lo, hi - lo, scratch); /* leaves a sorted copy in scratch */
			size_t k = hi - lo;
			row[MEDIA_F_BURST] = scratch[(k * 9) / 10] - scratch[k / 10];
		}
		size_t b = clampz(c / au->block_s + 4, nb);
		row[MEDIA_F_LEVEL] = b > 0 ? au->mom[b - 1] - file_med : 0.0f;
		/* sustained level: a real fight is loud for seconds, not for one shot */
		lo = clampz((c - 3.0) / au->block_s, nb);
		hi = clampz((c + 3.0) / au->block_s, nb);
		double sum = 0, tsum = 0;
		int tn = 0;
		for (size_t k = lo; k < hi; k++)
			sum += au->mom[k];
		row[MEDIA_F_SUSTAIN] = hi > lo ? (float)(sum / (double)(hi - lo)) - file_med : 0.0f;
		lo = clampz((c - 1.0) / au->block_s, nb);
		hi = clampz((c + 1.0) / au->block_s, nb);
		for (size_t k = lo; k < hi; k++)
			if (au->loud[k] > -60.0f) {
				tsum += au->tonal[k];
				tn++;
			}
		row[MEDIA_F_TONAL] = tn ? (float)(tsum / tn) : 0.0f;
	}
	free(med);
	free(ons);
	free(base);
	free(scratch);
}

/* ==== Video features from packets and keyframes ==== */

static int cmp_pkt(const void *pa, const void *pb)
{
	const media_vpacket_t *a = pa, *b = pb;
	return (a->t > b->t) - (a->t < b->t);
}

/* Per-moment statistic of the non-key frames: mean (skipping flagged frames) or maximum. */
static void moment_stats(const media_vpacket_t *pk, size_t npk, const uint8_t *flag, size_t n, float *mean,
			 float *pmax, float *scratch)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		double end = (i + 1) * MEDIA_STEP_S;
		size_t k = 0;
		double sum = 0;
		int cnt = 0;
		while (j < npk && pk[j].t < end) {
			if (!pk[j].key && pk[j].t >= i * MEDIA_STEP_S) {
				scratch[k++] = (float)pk[j].bytes;
				if (!flag || !flag[j]) {
					sum += pk[j].bytes;
					cnt++;
				}
			}
			j++;
		}
		if (mean)
			mean[i] = cnt ? (float)(sum / cnt) : 0.0f;
		if (pmax && k) {
			media_median(scratch, k, scratch + k); /* sorts the copy in scratch + k */
			pmax[i] = scratch[2 * k - 1];	       /* the largest: the P-frame level */
		} else if (pmax) {
			pmax[i] = 0.0f;
		}
	}
}

static void video_features(media_features_t *f, const media_vpacket_t *pk0, size_t npk,
			   const media_keyframe_t *kf, size_t nkf)
{
	size_t n = f->n;
	media_vpacket_t *pk = xmalloc((npk + 1) * sizeof(*pk));
	memcpy(pk, pk0, npk * sizeof(*pk));
	qsort(pk, npk, sizeof(*pk), cmp_pkt);
	float *scratch = xmalloc((2 * npk + 2 * n + 64) * sizeof(float));
	float *pmax = xcalloc(n, sizeof(float)), *pmax_base = xcalloc(n, sizeof(float));
	float *mean = xcalloc(n, sizeof(float)), *mean_base = xcalloc(n, sizeof(float));
	uint8_t *flag = xcalloc(npk + 1, 1);

	/* 1. discontinuities: keyframes off the regular cadence, and non-key frames 4x the P-frame level
	 *    (the largest non-key frame of a moment; never below the file's typical level) */
	moment_stats(pk, npk, NULL, n, NULL, pmax, scratch);
	baseline(pmax, n, 0, file_median(pmax, n, 0, scratch), pmax_base, scratch);
	size_t gop_max = 0, last_key = SIZE_MAX;
	for (size_t i = 0; i < npk; i++)
		if (pk[i].key) {
			if (last_key != SIZE_MAX && i - last_key > gop_max)
				gop_max = i - last_key;
			last_key = i;
		}
	double *ev = xmalloc((npk + 1) * sizeof(double)), *raw_ev = xmalloc((npk + 1) * sizeof(double));
	size_t nev = 0, nraw = 0;
	last_key = SIZE_MAX;
	for (size_t i = 0; i < npk; i++) {
		size_t m = clampz(pk[i].t / MEDIA_STEP_S, n ? n - 1 : 0);
		bool disc = false;
		if (pk[i].key) {
			if (last_key != SIZE_MAX && gop_max > 0 &&
			    (double)(i - last_key) < 0.9 * (double)gop_max)
				disc = true;
			last_key = i;
		} else if (pmax_base[m] > 0 && pk[i].bytes > CUT_RATIO * pmax_base[m]) {
			disc = true;
			flag[i] = 1;
		}
		if (disc && pk[i].t > 0.1) {
			raw_ev[nraw++] = pk[i].t;
			if (nev == 0 || pk[i].t - ev[nev - 1] > MERGE_EVENT_S)
				ev[nev++] = pk[i].t;
		}
	}

	/* 2. motion: bits per frame within ±0.5 s (cuts excluded) over the baseline */
	moment_stats(pk, npk, flag, n, mean, NULL, scratch);
	float fmed = file_median(mean, n, 0, scratch);
	baseline(mean, n, 0, 0.5f * fmed, mean_base, scratch);
	for (size_t i = 0; i < n; i++) {
		double sum = 0;
		int cnt = 0;
		for (size_t m = i > 0 ? i - 1 : 0; m <= i + 1 && m < n; m++)
			if (mean[m] > 0) {
				sum += m == i ? 2.0 * mean[m] : mean[m];
				cnt += m == i ? 2 : 1;
			}
		if (cnt && mean_base[i] > 0) {
			double r = log2((sum / cnt) / mean_base[i]);
			f->raw[i][MEDIA_F_MOTION] = (float)(r < -4 ? -4 : r > 4 ? 4 : r);
		}
	}

	/*
	 * 3. flashes: a keyframe much brighter than the one before it, followed
	 *    within 0.4 s by another discontinuity (the picture coming back);
	 *    a bright keyframe that stays is a cut.
	 */
	double *fl = xmalloc((nkf + 1) * sizeof(double));
	size_t nfl = 0;
	for (size_t i = 1; i < nkf; i++) {
		if (!(kf[i].luma > 150.0f && kf[i].luma - kf[i - 1].luma > 35.0f))
			continue;
		bool back = false;
		for (size_t k = 0; k < nraw && !back; k++)
			back = raw_ev[k] > kf[i].t + 0.01 && raw_ev[k] <= kf[i].t + 0.4;
		if (back)
			fl[nfl++] = kf[i].t;
	}
	size_t e0 = 0, f0 = 0;
	for (size_t i = 0; i < n; i++) {
		double c = (i + 0.5) * MEDIA_STEP_S;
		int cuts = 0, flashes = 0;
		while (e0 < nev && ev[e0] < c - 2.0)
			e0++;
		for (size_t k = e0; k < nev && ev[k] < c + 2.0; k++)
			cuts++;
		while (f0 < nfl && fl[f0] < c - 1.0)
			f0++;
		for (size_t k = f0; k < nfl && fl[k] < c + 1.0; k++)
			flashes++;
		f->raw[i][MEDIA_F_CUTS] = (float)cuts;
		f->raw[i][MEDIA_F_FLASH] = (float)flashes;
	}
	free(ev);
	free(raw_ev);
	free(fl);
	free(flag);
	free(pk);
	free(scratch);
	free(pmax);
	free(pmax_base);
	free(mean);
	free(mean_base);
}

void media_features_build(media_features_t *f, double duration, const media_audio_series_t *au,
			  const media_vpacket_t *pk, size_t npk, const media_keyframe_t *kf, size_t nkf)
{
	memset(f, 0, sizeof(*f));
	f->duration_s = duration;
	f->n = (size_t)ceil(duration / MEDIA_STEP_S);
	if (f->n == 0)
		f->n = 1;
	f->raw = xcalloc(f->n, sizeof(*f->raw));
	f->pix_motion = xcalloc(f->n, sizeof(float));
	f->pix_cuts = xcalloc(f->n, 1);
	f->pix_flash = xcalloc(f->n, 1);
	f->pix_known = xcalloc(f->n, 1);
	for (size_t i = 0; i < f->n; i++)
		f->pix_motion[i] = NAN;
	f->has_audio = au && au->n > 0;
	f->has_video = npk > 0;
	if (f->has_audio)
		audio_features(f, au);
	if (f->has_video)
		video_features(f, pk, npk, kf, nkf);
}

void media_features_free(media_features_t *f)
{
	free(f->raw);
	free(f->pix_motion);
	free(f->pix_cuts);
	free(f->pix_flash);
	free(f->pix_known);
	memset(f, 0, sizeof(*f));
}

/* ==== Pixel evidence ==== */

#define NPIX (MEDIA_GRAY_W * MEDIA_GRAY_H)

void media_pixels_init(media_pixels_t *p, const media_features_t *f)
{
	memset(p, 0, sizeof(*p));
	p->mad_sum = xcalloc(f->n ? f->n : 1, sizeof(double));
	p->mad_n = xcalloc(f->n ? f->n : 1, sizeof(int));
}

void media_pixels_cleanup(media_pixels_t *p)
{
	free(p->mad_sum);
	free(p->mad_n);
	memset(p, 0, sizeof(*p));
}

static void histogram(const uint8_t *g, float h[16])
{
	memset(h, 0, 16 * sizeof(float));
	for (int i = 0; i < NPIX; i++)
		h[g[i] >> 4] += 1.0f / NPIX;
}

static float hist_dist(const uint8_t *a, const uint8_t *b)
{
	float ha[16], hb[16], d = 0;
	histogram(a, ha);
	histogram(b, hb);
	for (int i = 0; i < 16; i++)
		d += fabsf(ha[i] - hb[i]);
	return d;
}

static float mean_abs_diff(const uint8_t *a, const uint8_t *b)
{
	int64_t s = 0;
	for (int i = 0; i < NPIX; i++)
		s += abs((int)a[i] - (int)b[i]);
	return (float)s / NPIX;
}

static float mean_luma(const uint8_t *g)
{
	int64_t s = 0;
	for (int i = 0; i < NPIX; i++)
		s += g[i];
	return (float)s / NPIX;
}

/* A pending bright jump that did not come back within 0.3 s was a cut to a brighter scene. */
static void settle_pending(media_pixels_t *p, media_features_t *f, bool returned)
{
	if (!p->pending)
		return;
	uint8_t *slot = returned ? &f->pix_flash[p->pend_m] : &f->pix_cuts[p->pend_m];
	if (*slot < 255)
		(*slot)++;
	p->pending = false;
}

void media_pixels_feed(media_pixels_t *p, media_features_t *f, double t, double fps, const uint8_t *gray)
{
	if (f->n == 0)
		return;
	size_t m = clampz(t / MEDIA_STEP_S, f->n - 1);
	if (p->have_prev && t > p->prev_t) {
		float mad = mean_abs_diff(p->prev, gray);
		float luma = mean_luma(gray), dl = luma - mean_luma(p->prev);
		/* motion per 1/30 s, so 30 and 60 fps files compare */
		double per30 = fps > 0 ? mad * fmin(4.0, fmax(0.25, fps / 30.0)) : mad;
		if (mad < 60.0f) { /* a cut is not motion */
			p->mad_sum[m] += per30;
			p->mad_n[m]++;
		}
		if (p->pending) {
			if (hist_dist(p->before_flash, gray) < 0.3f)
				settle_pending(p, f, true); /* back to the picture: it was a flash */
			else if (--p->pend_left <= 0)
				settle_pending(p, f, false);
		} else if (dl > 35.0f && luma > 150.0f) {
			p->pending = true;
			p->pend_m = m;
			p->pend_left = (int)(fps > 0 ? fps * 0.3 : 9) + 1;
			memcpy(p->before_flash, p->prev, NPIX);
		} else if (mad > 25.0f && hist_dist(p->prev, gray) > 0.5f) {
			if (f->pix_cuts[m] < 255)
				f->pix_cuts[m]++;
		}
	}
	memcpy(p->prev, gray, NPIX);
	p->prev_t = t;
	p->have_prev = true;
}

void media_pixels_restart(media_pixels_t *p, media_features_t *f)
{
	settle_pending(p, f, false);
	p->have_prev = false;
}

void media_pixels_commit(media_pixels_t *p, media_features_t *f, double a, double b)
{
	settle_pending(p, f, false);
	for (size_t i = 0; i < f->n; i++) {
		double s = i * MEDIA_STEP_S, e = s + MEDIA_STEP_S;
		if (s >= a && e <= b + 1e-9) {
			f->pix_known[i] = 1;
			if (p->mad_n[i])
				f->pix_motion[i] = (float)(p->mad_sum[i] / p->mad_n[i]);
		}
	}
}
