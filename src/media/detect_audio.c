/*
 * detect_audio.c — the detector's ears: loudness, spectral flux and onsets
 * of a mono 16 kHz signal, every 50 ms.
 *
 * What: media_audio_push() takes the decoded, downmixed, resampled audio in
 * any chunk size; every 800 samples (a 50 ms block) it records
 *   - loudness: K-weighted mean square in LUFS-like dB (ITU-R BS.1770's
 *     pre-filter, coefficients computed for 16 kHz as libebur128 does), and
 *     the 400 ms "momentary" loudness ending at the block;
 *   - spectral flux: the mean rise, in dB, of a 1024-point spectrum
 *     (Hann window, FFmpeg's av_tx RDFT) over the previous block's;
 *   - tonality: the spectral flatness of 100 Hz-7 kHz in dB over -60 dB
 *     (MPEG-1's psychoacoustic "alpha"): ~0 for noise, gunfire and
 *     explosions, towards 1 for music and tones.
 * media_audio_finish() then marks onsets: flux peaks that stand 3 dB above
 * the median flux of the 2 s before them. A gunshot, an explosion or a hit
 * is a wide-band attack, so it lifts the whole spectrum at once; steady
 * music or a constant roar does not, however loud, which is exactly the
 * difference the detector needs.
 *
 * Why 16 kHz mono: everything that matters here is below 8 kHz, and it keeps
 * the FFT cost at ~20 small transforms per second of audio (a 12 h file is
 * still only a few seconds of CPU).
 */
#include "media/detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/tx.h>

#include "core/util.h"

#define AUDIO_RATE  16000
#define BLOCK	    800 /* 50 ms */
#define FFT_N	    1024
#define MOMENT_BLKS 8 /* 400 ms */
#define POW_FLOOR   1e-9f
#define TONAL_LO    7	/* ~100 Hz */
#define TONAL_HI    448 /* ~7 kHz */

typedef struct {
	double b0, b1, b2, a1, a2;
	double z1, z2;
} biquad_t;

struct media_audio {
	biquad_t shelf, hpf;
	double blk_energy;
	size_t blk_fill;
	float ring[FFT_N];
	size_t ring_pos;
	float win[FFT_N];
	float prev_db[FFT_N / 2 + 1];
	bool have_prev;
	AVTXContext *tx;
	av_tx_fn fft;
	float *tin;
	AVComplexFloat *tout;
	double ms_hist[MOMENT_BLKS];
	size_t n, cap;
	float *loud, *mom, *flux, *tonal;
};

static double biquad_run(biquad_t *q, double x)
{
	/* transposed direct form II */
	double y = q->b0 * x + q->z1;
	q->z1 = q->b1 * x - q->a1 * y + q->z2;
	q->z2 = q->b2 * x - q->a2 * y;
	return y;
}

/* BS.1770 K-weighting for any sample rate (the formulas of libebur128). */
static void k_weighting(biquad_t *shelf, biquad_t *hpf, double rate)
{
	double f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196;
	double k = tan(M_PI * f0 / rate);
	double vh = pow(10.0, g / 20.0), vb = pow(vh, 0.4996667741545416);
	double a0 = 1.0 + k / q + k * k;
	*shelf = (biquad_t){.b0 = (vh + vb * k / q + k * k) / a0,
			    .b1 = 2.0 * (k * k - vh) / a0,
			    .b2 = (vh - vb * k / q + k * k) / a0,
			    .a1 = 2.0 * (k * k - 1.0) / a0,
			    .a2 = (1.0 - k / q + k * k) / a0};
	f0 = 38.13547087602444;
	q = 0.5003270373238773;
	k = tan(M_PI * f0 / rate);
	a0 = 1.0 + k / q + k * k;
	*hpf = (biquad_t){.b0 = 1.0,
			  .b1 = -2.0,
			  .b2 = 1.0,
			  .a1 = 2.0 * (k * k - 1.0) / a0,
			  .a2 = (1.0 - k / q + k * k) / a0};
}

media_audio_t *media_audio_new(err_t *e)
{
	media_audio_t *a = xcalloc(1, sizeof(*a));
	k_weighting(&a->shelf, &a->hpf, AUDIO_RATE);
	for (int i = 0; i < FFT_N; i++)
		a->win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / (FFT_N - 1)));
	float scale = 1.0f;
	int rc = av_tx_init(&a->tx, &a->fft, AV_TX_FLOAT_RDFT, 0, FFT_N, &scale, 0);
	a->tin = av_malloc(sizeof(float) * (FFT_N + 2));
	a->tout = av_malloc(sizeof(AVComplexFloat) * (FFT_N / 2 + 1));
	if (rc < 0 || !a->tin || !a->tout) {
		media_audio_free(a);
		err_set(e, ERR_INTERNAL, "fft_unavailable", NULL, "cannot set up the FFT (av_tx_init: %d)",
			rc);
		return NULL;
	}
	return a;
}

void media_audio_free(media_audio_t *a)
{
	if (!a)
		return;
	av_tx_uninit(&a->tx);
	av_free(a->tin);
	av_free(a->tout);
	free(a->loud);
	free(a->mom);
	free(a->flux);
	free(a->tonal);
	free(a);
}

static float power_db(double ms)
{
	return (float)(-0.691 + 10.0 * log10(ms + 1e-12));
}

static void end_block(media_audio_t *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4096;
		a->loud = xrealloc(a->loud, a->cap * sizeof(float));
		a->mom = xrealloc(a->mom, a->cap * sizeof(float));
		a->flux = xrealloc(a->flux, a->cap * sizeof(float));
		a->tonal = xrealloc(a->tonal, a->cap * sizeof(float));
	}
	double ms = a->blk_energy / BLOCK;
	memmove(a->ms_hist, a->ms_hist + 1, sizeof(a->ms_hist) - sizeof(a->ms_hist[0]));
	a->ms_hist[MOMENT_BLKS - 1] = ms;
	double msum = 0;
	for (int i = 0; i < MOMENT_BLKS; i++)
		msum += a->ms_hist[i];
	a->loud[a->n] = power_db(ms);
	a->mom[a->n] = power_db(msum / MOMENT_BLKS);

	/* spectrum of the last FFT_N samples (oldest first) */
	for (size_t i = 0; i < FFT_N; i++)
		a->tin[i] = a->ring[(a->ring_pos + i) % FFT_N] * a->win[i];
	a->fft(a->tx, a->tout, a->tin, sizeof(float));
	/* |X|^2 / (N/4)^2: a full-scale sine peaks near 0 dB */
	const float norm = 1.0f / ((FFT_N / 4.0f) * (FFT_N / 4.0f));
	double rise = 0, sum_ln = 0, sum_p = 0;
	int bins = 0, tbins = 0;
	for (int k = 2; k < FFT_N / 2; k++) { /* the Nyquist bin's imaginary part is not written by av_tx */
		float p = (a->tout[k].re * a->tout[k].re + a->tout[k].im * a->tout[k].im) * norm;
		float db = 10.0f * log10f(p + POW_FLOOR);
		if (a->have_prev && db > a->prev_db[k])
			rise += db - a->prev_db[k];
		a->prev_db[k] = db;
		bins++;
		if (k >= TONAL_LO && k <= TONAL_HI) {
			sum_ln += log(p + POW_FLOOR);
			sum_p += p + POW_FLOOR;
			tbins++;
		}
	}
	a->flux[a->n] = a->have_prev ? (float)(rise / bins) : 0.0f;
	/* tonality: spectral flatness in dB over -60 dB (the MPEG psychoacoustic model's alpha) */
	double sfm_db = 10.0 * log10(exp(sum_ln / tbins) / (sum_p / tbins));
	a->tonal[a->n] = (float)fmin(1.0, fmax(0.0, sfm_db / -60.0));
	a->have_prev = true;
	a->n++;
	a->blk_energy = 0;
	a->blk_fill = 0;
}

void media_audio_push(media_audio_t *a, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float s = x ? x[i] : 0.0f;
		if (!isfinite(s))
			s = 0.0f;
		double k = biquad_run(&a->hpf, biquad_run(&a->shelf, s));
		a->blk_energy += k * k;
		a->ring[a->ring_pos] = s;
		a->ring_pos = (a->ring_pos + 1) % FFT_N;
		if (++a->blk_fill == BLOCK)
			end_block(a);
	}
}

size_t media_audio_samples(const media_audio_t *a)
{
	return a->n * BLOCK + a->blk_fill;
}

static int cmp_float(const void *pa, const void *pb)
{
	float a = *(const float *)pa, b = *(const float *)pb;
	return (a > b) - (a < b);
}

float media_median(const float *x, size_t n, float *scratch)
{
	if (n == 0)
		return 0.0f;
	memcpy(scratch, x, n * sizeof(float));
	qsort(scratch, n, sizeof(float), cmp_float);
	return n % 2 ? scratch[n / 2] : 0.5f * (scratch[n / 2 - 1] + scratch[n / 2]);
}

void media_audio_finish(media_audio_t *a, media_audio_series_t *out)
{
	memset(out, 0, sizeof(*out));
	out->n = a->n;
	out->block_s = (double)BLOCK / AUDIO_RATE;
	out->loud = a->loud;
	out->mom = a->mom;
	out->flux = a->flux;
	out->tonal = a->tonal;
	a->loud = a->mom = a->flux = a->tonal = NULL;
	out->onset = xcalloc(out->n ? out->n : 1, 1);
	/* onsets: local flux maxima 3 dB over the median of the previous 2 s */
	const size_t look = 40;
	float scratch[40];
	for (size_t b = 1; b + 1 < out->n; b++) {
		float f = out->flux[b];
		if (f < out->flux[b - 1] || f <= out->flux[b + 1] || out->loud[b] < -70.0f)
			continue;
		size_t from = b > look ? b - look : 0;
		float med = media_median(out->flux + from, b - from, scratch);
		if (f > med + 3.0f && f > 1.8f * med)
			out->onset[b] = 1;
	}
	media_audio_free(a);
}

void media_audio_series_free(media_audio_series_t *s)
{
	free(s->loud);
	free(s->mom);
	free(s->flux);
	free(s->tonal);
	free(s->onset);
	memset(s, 0, sizeof(*s));
}
