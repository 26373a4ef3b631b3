/*
 * detect_score.c — from per-moment features to ranked highlights with reasons.
 *
 * What: a logistic model scores every moment: score = sigmoid(bias + Σ w·x)
 * where x are the features of detect.h scaled to comparable ranges (below).
 * Local maxima above the model's threshold become highlights: the "core" is
 * the run of neighbouring moments whose logit is within region_drop of the
 * peak's, padded with a pre-roll (the build-up: a fight starts before the
 * shooting) and a post-roll, then kept within 5–20 s. Near windows are
 * merged; the best max_highlights per 5 minutes are kept, best first.
 *
 * Two passes: the first uses only the cheap signals (audio, packet sizes,
 * keyframes). Its peaks are the candidates whose frames the refine stage
 * decodes; the second pass replaces the bitstream's guesses about cuts and
 * flashes with what the pixels showed wherever they were analysed. Both
 * passes are here so that `cosmiv fit`, which knows every frame's pixels,
 * follows exactly what a detection run does.
 *
 * Why logistic and hand-readable: each feature's contribution w·x is in
 * logit units, so the reasons printed are the largest contributions, in
 * words and in the feature's own unit (dB, onsets, cuts) — the score and the
 * explanation cannot disagree.
 */
#include "media/detect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

const char *const media_feature_names[MEDIA_NFEAT] = {
    "loud_jump", "onsets", "onset_excess", "burst", "level", "sustain",
    "tonal",	 "motion", "cuts",	   "flash", "hud",
};

/* x = clamp(raw / div, lo, hi): every feature lands in a few units */
static const struct {
	float div, lo, hi;
} scale[MEDIA_NFEAT] = {
    [MEDIA_F_LOUD_JUMP] = {10, -1, 3}, [MEDIA_F_ONSETS] = {4, 0, 3},  [MEDIA_F_ONSET_EXCESS] = {4, -2, 3},
    [MEDIA_F_BURST] = {6, 0, 1},       [MEDIA_F_LEVEL] = {10, -3, 3}, [MEDIA_F_SUSTAIN] = {10, -3, 3},
    [MEDIA_F_TONAL] = {0.5, 0, 2},     [MEDIA_F_MOTION] = {1, -3, 3}, [MEDIA_F_CUTS] = {2, 0, 3},
    [MEDIA_F_FLASH] = {1, 0, 2},       [MEDIA_F_HUD] = {1, 0, 4},
};

#define CAND_FACTOR 0.6 /* candidates may score a little under the threshold: pixels can lift them */
#define REFINE_PAD  2.5 /* seconds decoded on each side of a candidate peak */
#define MAX_CORE_M  20	/* a core reaches at most 10 s to each side of its peak */
#define MAX_REASONS 4	/* the strongest contributions; more is noise */

float media_feature_scaled(int k, float raw)
{
	float x = raw / scale[k].div;
	return x < scale[k].lo ? scale[k].lo : x > scale[k].hi ? scale[k].hi : x;
}

/* Pixel evidence replaces the packet-level guesses when the ±2 s around i were analysed. */
static bool pix_covers(const media_features_t *f, const uint8_t *mask, size_t i)
{
	if (!mask || !mask[i])
		return false;
	size_t lo = i >= 4 ? i - 4 : 0, hi = i + 4 <= f->n ? i + 4 : f->n;
	for (size_t j = lo; j < hi; j++)
		if (!f->pix_known[j])
			return false;
	return true;
}

static void effective(const media_features_t *f, const uint8_t *mask, size_t i, float out[MEDIA_NFEAT])
{
	memcpy(out, f->raw[i], sizeof(float) * MEDIA_NFEAT);
	if (!pix_covers(f, mask, i))
		return;
	int cuts = 0, flashes = 0;
	for (size_t j = i >= 4 ? i - 4 : 0; j < i + 4 && j < f->n; j++)
		cuts += f->pix_cuts[j] + f->pix_flash[j];
	for (size_t j = i >= 2 ? i - 2 : 0; j < i + 2 && j < f->n; j++)
		flashes += f->pix_flash[j];
	out[MEDIA_F_CUTS] = (float)cuts;
	out[MEDIA_F_FLASH] = (float)flashes;
}

/* Logit of every moment (3-tap smoothed) and its score, sigmoid(z). */
static void score_all(const media_features_t *f, const media_model_t *m, const uint8_t *mask, float *zs,
		      float *s)
{
	float *raw = xmalloc(f->n * sizeof(float));
	for (size_t i = 0; i < f->n; i++) {
		float x[MEDIA_NFEAT];
		effective(f, mask, i, x);
		double z = m->bias;
		for (int k = 0; k < MEDIA_NFEAT; k++)
			z += m->w[k] * media_feature_scaled(k, x[k]);
		raw[i] = (float)z;
	}
	for (size_t i = 0; i < f->n; i++) {
		float l = raw[i > 0 ? i - 1 : i], r = raw[i + 1 < f->n ? i + 1 : i];
		zs[i] = 0.25f * l + 0.5f * raw[i] + 0.25f * r;
		s[i] = (float)(1.0 / (1.0 + exp(-zs[i])));
	}
	free(raw);
}

/* The count cap: max_highlights per 5 minutes of video (a 10-minute video may have twice as many). */
static size_t highlight_cap(const media_features_t *f, const media_model_t *m)
{
	double per = m->max_highlights > 0 ? m->max_highlights : 10;
	return (size_t)ceil(per * fmax(1.0, f->duration_s / 300.0));
}

/* ==== Peaks and windows ==== */

typedef struct {
	double start, end, peak_t, score;
	size_t peak_i, core_lo, core_hi;
} win_t;

static int cmp_score_desc(const void *pa, const void *pb, void *ctx)
{
	const float *s = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	return (s[b] > s[a]) - (s[b] < s[a]);
}

/* Local maxima (over ±1 s) scoring at least thr, best first. */
static size_t find_peaks(const float *s, size_t n, double thr, size_t *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < thr)
			continue;
		bool peak = true;
		for (size_t j = i >= 2 ? i - 2 : 0; j <= i + 2 && j < n && peak; j++)
			if (j != i && (s[j] > s[i] || (j < i && s[j] == s[i])))
				peak = false;
		if (peak)
			out[k++] = i;
	}
	qsort_r(out, k, sizeof(size_t), cmp_score_desc, (void *)s);
	return k;
}

static int cmp_win_start(const void *pa, const void *pb)
{
	const win_t *a = pa, *b = pb;
	return (a->start > b->start) - (a->start < b->start);
}

static int cmp_win_score(const void *pa, const void *pb)
{
	const win_t *a = pa, *b = pb;
	return (b->score > a->score) - (b->score < a->score);
}

static size_t build_windows(const media_features_t *f, const media_model_t *m, const float *z, const float *s,
			    win_t *w)
{
	size_t *pk = xmalloc((f->n + 1) * sizeof(size_t));
	size_t np = find_peaks(s, f->n, m->threshold, pk), nw = 0;
	double dur = f->duration_s;
	for (size_t q = 0; q < np; q++) {
		size_t p = pk[q];
		double pt = (p + 0.5) * MEDIA_STEP_S;
		bool inside = false;
		for (size_t k = 0; k < nw && !inside; k++)
			inside = pt >= w[k].start && pt <= w[k].end;
		if (inside)
			continue;
		/* the core: neighbours nearly as strong as the peak, in odds (logits), not in the
		 * saturated probability, so a long busy stretch does not all become one core */
		float floor_z = (float)(z[p] - m->region_drop);
		size_t lo = p, hi = p;
		while (lo > 0 && z[lo - 1] >= floor_z && p - (lo - 1) <= MAX_CORE_M)
			lo--;
		while (hi + 1 < f->n && z[hi + 1] >= floor_z && hi + 1 - p <= MAX_CORE_M)
			hi++;
		double a = lo * MEDIA_STEP_S - m->pre_roll_s, b = (hi + 1) * MEDIA_STEP_S + m->post_roll_s;
		if (b - a < m->min_len_s) {
			double grow = (m->min_len_s - (b - a)) / 2;
			a -= grow;
			b += grow;
		}
		if (b - a > m->max_len_s) { /* keep the peak, trim the longer side */
			double keep_before = fmin(pt - a, m->max_len_s * 0.6);
			a = pt - keep_before;
			b = a + m->max_len_s;
		}
		if (a < 0) {
			b = fmin(dur, b - a);
			a = 0;
		}
		if (b > dur) {
			a = fmax(0, a - (b - dur));
			b = dur;
		}
		/* a window mostly inside an earlier (better) one adds nothing */
		bool dup = false;
		for (size_t k = 0; k < nw && !dup; k++) {
			double ov = fmin(b, w[k].end) - fmax(a, w[k].start);
			dup = ov > 0.5 * fmin(b - a, w[k].end - w[k].start);
		}
		if (dup || b - a <= 0)
			continue;
		w[nw++] = (win_t){.start = a,
				  .end = b,
				  .peak_t = pt,
				  .score = s[p],
				  .peak_i = p,
				  .core_lo = lo,
				  .core_hi = hi};
	}
	free(pk);
	/* merge neighbours when the union still fits */
	qsort(w, nw, sizeof(*w), cmp_win_start);
	size_t k = 0;
	for (size_t i = 0; i < nw; i++) {
		if (k > 0 && w[i].start - w[k - 1].end < m->merge_gap_s &&
		    fmax(w[i].end, w[k - 1].end) - w[k - 1].start <= m->max_len_s) {
			win_t *d = &w[k - 1];
			d->end = fmax(d->end, w[i].end);
			d->core_hi = w[i].core_hi > d->core_hi ? w[i].core_hi : d->core_hi;
			if (w[i].score > d->score) {
				d->score = w[i].score;
				d->peak_t = w[i].peak_t;
				d->peak_i = w[i].peak_i;
			}
			continue;
		}
		w[k++] = w[i];
	}
	nw = k;
	qsort(w, nw, sizeof(*w), cmp_win_score);
	if (nw > highlight_cap(f, m))
		nw = highlight_cap(f, m);
	return nw;
}

size_t media_candidates(const media_features_t *f, const media_model_t *m, double *peaks_s, size_t max)
{
	if (f->n == 0)
		return 0;
	float *s = xmalloc(f->n * sizeof(float)), *z = xmalloc(f->n * sizeof(float));
	size_t *pk = xmalloc((f->n + 1) * sizeof(size_t));
	score_all(f, m, NULL, z, s);
	size_t np = find_peaks(s, f->n, m->threshold * CAND_FACTOR, pk), k = 0;
	for (size_t q = 0; q < np && k < max; q++) {
		double t = (pk[q] + 0.5) * MEDIA_STEP_S;
		bool near = false; /* one refine window per neighbourhood */
		for (size_t j = 0; j < k && !near; j++)
			near = fabs(peaks_s[j] - t) < REFINE_PAD;
		if (!near)
			peaks_s[k++] = t;
	}
	free(s);
	free(z);
	free(pk);
	return k;
}

/* ==== Reasons ==== */

static void add_reason(media_highlight_t *h, char *r)
{
	h->reasons = xrealloc(h->reasons, (h->n_reasons + 1) * sizeof(char *));
	h->reasons[h->n_reasons++] = r;
}

typedef struct {
	int k;
	double contrib;
	size_t at;
} contrib_t;

static int cmp_contrib(const void *pa, const void *pb)
{
	const contrib_t *a = pa, *b = pb;
	return (b->contrib > a->contrib) - (b->contrib < a->contrib);
}

static char *reason_text(const media_features_t *f, const media_model_t *m, const uint8_t *mask, int k,
			 size_t i)
{
	float x[MEDIA_NFEAT];
	effective(f, mask, i, x);
	bool pix = pix_covers(f, mask, i);
	switch (k) {
	case MEDIA_F_LOUD_JUMP:
		return xasprintf("loudness spike %+.0f dB over the last 10 s", x[k]);
	case MEDIA_F_ONSETS:
		return xasprintf("%.0f sharp sound onset%s in 2 s (gunfire-like)", x[k],
				 x[k] >= 1.5 ? "s" : "");
	case MEDIA_F_ONSET_EXCESS:
		return xasprintf("%.0f more sound onset%s in 2 s than usual in the 10 s before", x[k],
				 x[k] >= 1.5 ? "s" : "");
	case MEDIA_F_BURST:
		return xasprintf("punchy sound: %.0f dB between loud and quiet instants within 2 s", x[k]);
	case MEDIA_F_LEVEL:
		return xasprintf("loud moment: %+.0f dB over this video's typical level", x[k]);
	case MEDIA_F_SUSTAIN:
		return xasprintf("sustained loud action: %+.0f dB over this video's typical level for 6 s",
				 x[k]);
	case MEDIA_F_TONAL:
		return xstrdup("music-like sound");
	case MEDIA_F_MOTION: {
		double ratio = exp2(x[k]);
		float pm = f->pix_motion[i];
		if (!isnan(pm))
			return xasprintf(
			    "burst of motion: %.1fx the usual video bits per frame, %.0f%% pixel change "
			    "per frame",
			    ratio, pm / 2.55);
		return xasprintf("burst of motion: %.1fx the usual video bits per frame", ratio);
	}
	case MEDIA_F_CUTS: {
		if (!pix && x[k] < 1.5)
			return xstrdup("a picture discontinuity (a cut or a flash, read from the bitstream)");
		if (!pix)
			return xasprintf(
			    "%.0f picture discontinuities in 4 s (cuts or flashes, read from the "
			    "bitstream)",
			    x[k]);
		int cuts = 0;
		for (size_t j = i >= 4 ? i - 4 : 0; j < i + 4 && j < f->n; j++)
			cuts += f->pix_cuts[j];
		if (cuts == 0)
			return NULL; /* the flash reason says it */
		return cuts == 1 ? xstrdup("a scene cut") : xasprintf("%d scene cuts in 4 s", cuts);
	}
	case MEDIA_F_FLASH:
		if (x[k] >= 2)
			return xasprintf("%.0f bright flashes in 2 s", x[k]);
		return xstrdup(pix ? "bright flash" : "bright flash (on a keyframe)");
	case MEDIA_F_HUD:
		if (x[k] >= 1.5)
			return xasprintf("%.0f %ss on screen within 6 s", x[k],
					 m->hud.what[0] ? m->hud.what : "HUD message");
		return xasprintf("a %s on screen", m->hud.what[0] ? m->hud.what : "HUD message");
	default:
		return NULL;
	}
}

static void reasons_for(const media_features_t *f, const media_model_t *m, const uint8_t *mask,
			const win_t *w, media_highlight_t *h)
{
	contrib_t c[MEDIA_NFEAT];
	size_t lo = w->core_lo, hi = w->core_hi;
	for (int k = 0; k < MEDIA_NFEAT; k++) {
		c[k] = (contrib_t){.k = k, .contrib = 0, .at = w->peak_i};
		for (size_t i = lo; i <= hi && i < f->n; i++) {
			float x[MEDIA_NFEAT];
			effective(f, mask, i, x);
			/* a reason is evidence present, not a signal absent: "-16 dB" never explains a
			 * highlight */
			float xs = media_feature_scaled(k, x[k]);
			double v = m->w[k] > 0 && xs > 0 ? m->w[k] * xs : 0;
			if (v > c[k].contrib) {
				c[k].contrib = v;
				c[k].at = i;
			}
		}
	}
	qsort(c, MEDIA_NFEAT, sizeof(c[0]), cmp_contrib);
	for (int j = 0; j < MEDIA_NFEAT && h->n_reasons < MAX_REASONS; j++) {
		if (c[j].contrib <= 0 || (j > 0 && c[j].contrib < 0.3))
			break;
		char *r = reason_text(f, m, mask, c[j].k, c[j].at);
		if (r)
			add_reason(h, r);
	}
	if (!f->has_video)
		add_reason(h, xstrdup("no video stream: judged on sound only"));
	if (!f->has_audio)
		add_reason(h, xstrdup("no audio stream: judged on the picture only"));
	if (h->n_reasons == 0)
		add_reason(h, xstrdup("stands out from the 10 s before it"));
}

void media_pick_highlights(const media_features_t *f, const media_model_t *m, media_result_t *out)
{
	out->highlights = NULL;
	out->n_highlights = 0;
	if (f->n == 0)
		return;
	/* pass 1: candidates from the cheap signals; their neighbourhoods may use pixel evidence */
	size_t maxc = 2 * highlight_cap(f, m);
	double *cand = xmalloc(maxc * sizeof(double));
	size_t nc = media_candidates(f, m, cand, maxc);
	uint8_t *mask = xcalloc(f->n, 1);
	for (size_t c = 0; c < nc; c++)
		for (size_t i = 0; i < f->n; i++)
			if (fabs((i + 0.5) * MEDIA_STEP_S - cand[c]) <= REFINE_PAD)
				mask[i] = 1;
	free(cand);
	/* pass 2 */
	float *s = xmalloc(f->n * sizeof(float)), *z = xmalloc(f->n * sizeof(float));
	score_all(f, m, mask, z, s);
	win_t *w = xmalloc((f->n + 1) * sizeof(win_t));
	size_t nw = build_windows(f, m, z, s, w);
	out->highlights = nw ? xcalloc(nw, sizeof(media_highlight_t)) : NULL;
	for (size_t i = 0; i < nw; i++) {
		media_highlight_t *h = &out->highlights[i];
		h->start_s = w[i].start;
		h->end_s = w[i].end;
		h->peak_s = w[i].peak_t;
		h->score = w[i].score;
		reasons_for(f, m, mask, &w[i], h);
	}
	out->n_highlights = nw;
	free(w);
	free(s);
	free(z);
	free(mask);
}
