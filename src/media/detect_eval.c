/*
 * detect_eval.c — measuring the detector and re-fitting its model.
 *
 * What: manifests (labelled videos), matching of predicted windows to the
 * labels, precision / recall / F1 / average precision, and `cosmiv fit`'s
 * search for better weights.
 *
 * How: a prediction is a true positive when its temporal IoU with a
 * not-yet-matched label is at least 0.5; predictions are matched best score
 * first (the PASCAL VOC / ActivityNet protocol). AP is the area under the
 * precision/recall curve of the ranked list with VOC's all-point
 * interpolation (precision made monotone from the right).
 *
 * Fitting has two steps, both over features extracted once per video:
 *   1. logistic regression of each moment against the labels: a moment in
 *      the core of a labelled window (the window minus the model's pre- and
 *      post-roll) is positive, one outside every window negative, padding is
 *      ignored; classes are balanced. This gives the direction.
 *   2. coordinate search from the better of (the starting model, the
 *      regression) over each weight, the bias, the threshold, the core's
 *      logit drop and the rolls, keeping any step that raises F1 at IoU 0.5
 *      — at the threshold and 0.15 on either side of it, so that the model
 *      keeps a margin (ties broken by AP). Cheap, since scoring a model
 *      re-uses the features. Small and honest: with few labelled videos it
 *      will overfit, so evaluate on videos it did not see.
 */
#include "media/detect.h"

#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ==== Manifests ==== */

static bool read_span(json_t *h, media_span_t *out)
{
	json_t *a = json_object_get(h, "start_s"), *b = json_object_get(h, "end_s");
	if (!a && !b) {
		a = json_object_get(h, "start");
		b = json_object_get(h, "end");
	}
	if (!json_is_number(a) || !json_is_number(b))
		return false;
	out->start_s = json_number_value(a);
	out->end_s = json_number_value(b);
	return isfinite(out->start_s) && isfinite(out->end_s) && out->end_s > out->start_s &&
	       out->start_s >= 0;
}

bool media_manifest_load(const char *path, media_manifest_t *m, err_t *e)
{
	memset(m, 0, sizeof(*m));
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		return err_set(e, ERR_INVALID, "bad_manifest", NULL, "%s: %s (line %d)", path, je.text,
			       je.line);
	json_t *list = json_is_object(root) ? json_object_get(root, "videos") : root;
	if (!json_is_array(list)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "bad_manifest", NULL,
			       "%s: expected a list of {video, highlights} (or {\"videos\": [...]})", path);
	}
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));
	free(copy);
	bool ok = true;
	m->items = xcalloc(json_array_size(list) + 1, sizeof(media_labelled_t));
	size_t i;
	json_t *it;
	json_array_foreach(list, i, it)
	{
		const char *video = json_string_value(json_object_get(it, "video"));
		json_t *hs = json_object_get(it, "highlights");
		if (!video || !*video || !json_is_array(hs)) {
			ok = err_set(e, ERR_INVALID, "bad_manifest", NULL,
				     "%s: entry %zu needs \"video\" (string) and \"highlights\" (list)", path,
				     i);
			break;
		}
		media_labelled_t *l = &m->items[m->n++];
		l->video = video[0] == '/' ? xstrdup(video) : xasprintf("%s/%s", dir, video);
		l->truth = xcalloc(json_array_size(hs) + 1, sizeof(media_span_t));
		size_t j;
		json_t *h;
		json_array_foreach(hs, j, h)
		{
			if (!read_span(h, &l->truth[l->n_truth])) {
				ok = err_set(e, ERR_INVALID, "bad_manifest", NULL,
					     "%s: %s, highlight %zu: needs start_s < end_s (or start < end)",
					     path, video, j);
				break;
			}
			l->n_truth++;
		}
		if (!ok)
			break;
	}
	free(dir);
	json_decref(root);
	if (!ok)
		media_manifest_free(m);
	return ok;
}

void media_manifest_free(media_manifest_t *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].video);
		free(m->items[i].truth);
	}
	free(m->items);
	memset(m, 0, sizeof(*m));
}

/* ==== Matching and scores ==== */

double media_iou(double a0, double a1, double b0, double b1)
{
	double inter = fmin(a1, b1) - fmax(a0, b0);
	if (inter <= 0)
		return 0;
	double uni = fmax(a1, b1) - fmin(a0, b0);
	return uni > 0 ? inter / uni : 0;
}

static int cmp_idx_score(const void *pa, const void *pb, void *ctx)
{
	const double *s = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	if (s[a] != s[b])
		return s[b] > s[a] ? 1 : -1;
	return (a > b) - (a < b);
}

double media_average_precision(const double *score, const uint8_t *tp, size_t n, int n_truth)
{
	if (n_truth <= 0)
		return n == 0 ? 1.0 : 0.0;
	size_t *ord = xmalloc((n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	qsort_r(ord, n, sizeof(size_t), cmp_idx_score, (void *)score);
	double *prec = xmalloc((n + 1) * sizeof(double)), *rec = xmalloc((n + 1) * sizeof(double));
	int ctp = 0;
	for (size_t i = 0; i < n; i++) {
		ctp += tp[ord[i]] ? 1 : 0;
		prec[i] = (double)ctp / (double)(i + 1);
		rec[i] = (double)ctp / n_truth;
	}
	/* all-point interpolation: precision made non-increasing from the right */
	for (size_t i = n; i-- > 1;)
		if (prec[i] > prec[i - 1])
			prec[i - 1] = prec[i];
	double ap = 0, prev_r = 0;
	for (size_t i = 0; i < n; i++) {
		ap += (rec[i] - prev_r) * prec[i];
		prev_r = rec[i];
	}
	free(ord);
	free(prec);
	free(rec);
	return ap;
}

static void finish_scores(media_scores_t *s)
{
	s->precision = s->n_pred ? (double)s->tp / s->n_pred : (s->n_truth ? 0.0 : 1.0);
	s->recall = s->n_truth ? (double)s->tp / s->n_truth : 1.0;
	s->f1 =
	    s->precision + s->recall > 0 ? 2 * s->precision * s->recall / (s->precision + s->recall) : 0.0;
}

void media_match(const media_highlight_t *pred, size_t n_pred, const media_span_t *truth, size_t n_truth,
		 double min_iou, media_scores_t *out, uint8_t *matched)
{
	memset(out, 0, sizeof(*out));
	out->n_pred = (int)n_pred;
	out->n_truth = (int)n_truth;
	double *score = xmalloc((n_pred + 1) * sizeof(double));
	size_t *ord = xmalloc((n_pred + 1) * sizeof(size_t));
	uint8_t *tp = xcalloc(n_pred + 1, 1), *used = xcalloc(n_truth + 1, 1);
	for (size_t i = 0; i < n_pred; i++) {
		score[i] = pred[i].score;
		ord[i] = i;
	}
	qsort_r(ord, n_pred, sizeof(size_t), cmp_idx_score, score);
	for (size_t q = 0; q < n_pred; q++) {
		const media_highlight_t *p = &pred[ord[q]];
		double best = min_iou;
		size_t bi = SIZE_MAX;
		for (size_t j = 0; j < n_truth; j++) {
			double iou = media_iou(p->start_s, p->end_s, truth[j].start_s, truth[j].end_s);
			if (!used[j] && iou >= best) {
				best = iou;
				bi = j;
			}
		}
		if (bi != SIZE_MAX) {
			used[bi] = 1;
			tp[ord[q]] = 1;
			out->tp++;
		}
	}
	out->ap = media_average_precision(score, tp, n_pred, (int)n_truth);
	finish_scores(out);
	if (matched)
		memcpy(matched, tp, n_pred);
	free(score);
	free(ord);
	free(tp);
	free(used);
}

/* ==== Fit ==== */

typedef struct {
	const media_features_t *feats;
	const media_manifest_t *labels;
} fitset_t;

/* Scores the whole set with model m: pooled TP/FP/FN and the pooled AP. */
static media_scores_t evaluate(const fitset_t *fs, const media_model_t *m)
{
	media_scores_t tot = {0};
	size_t cap = 64, n = 0;
	double *score = xmalloc(cap * sizeof(double));
	uint8_t *tp = xmalloc(cap);
	for (size_t v = 0; v < fs->labels->n; v++) {
		media_result_t r = {0};
		media_pick_highlights(&fs->feats[v], m, &r);
		const media_labelled_t *l = &fs->labels->items[v];
		uint8_t *matched = xcalloc(r.n_highlights + 1, 1);
		media_scores_t s;
		media_match(r.highlights, r.n_highlights, l->truth, l->n_truth, 0.5, &s, matched);
		for (size_t i = 0; i < r.n_highlights; i++) {
			if (n == cap) {
				cap *= 2;
				score = xrealloc(score, cap * sizeof(double));
				tp = xrealloc(tp, cap);
			}
			score[n] = r.highlights[i].score;
			tp[n++] = matched[i];
		}
		tot.tp += s.tp;
		tot.n_pred += s.n_pred;
		tot.n_truth += s.n_truth;
		free(matched);
		media_result_free(&r);
	}
	tot.ap = media_average_precision(score, tp, n, tot.n_truth);
	finish_scores(&tot);
	free(score);
	free(tp);
	return tot;
}

/*
 * What the search maximises: F1 at the model's threshold, and F1 with the
 * threshold 0.15 lower and higher — a model whose peaks sit just above or
 * below its threshold is fragile on new videos, so a margin is worth as much
 * as the F1 itself — plus a little AP to break ties.
 */
typedef struct {
	media_scores_t s;
	double obj;
} fitscore_t;

static fitscore_t assess(const fitset_t *fs, const media_model_t *m)
{
	fitscore_t r = {.s = evaluate(fs, m)};
	double band = 0;
	for (int k = -1; k <= 1; k += 2) {
		media_model_t m2 = *m;
		m2.threshold = fmin(0.95, fmax(0.05, m->threshold + 0.15 * k));
		band += evaluate(fs, &m2).f1 / 2;
	}
	r.obj = 0.5 * r.s.f1 + 0.5 * band + 0.05 * r.s.ap;
	return r;
}

static void logistic(const fitset_t *fs, const media_model_t *start, media_model_t *out)
{
	*out = *start;
	size_t n = 0;
	for (size_t v = 0; v < fs->labels->n; v++)
		n += fs->feats[v].n;
	float(*x)[MEDIA_NFEAT] = xcalloc(n + 1, sizeof(*x));
	float *y = xcalloc(n + 1, sizeof(float)), *wt = xcalloc(n + 1, sizeof(float));
	size_t k = 0, npos = 0, nneg = 0;
	for (size_t v = 0; v < fs->labels->n; v++) {
		const media_features_t *f = &fs->feats[v];
		const media_labelled_t *l = &fs->labels->items[v];
		for (size_t i = 0; i < f->n; i++, k++) {
			double t = (i + 0.5) * MEDIA_STEP_S;
			int lab = 0; /* 0 negative, 1 positive, 2 ignored */
			for (size_t j = 0; j < l->n_truth; j++) {
				const media_span_t *s = &l->truth[j];
				double c0 = s->start_s + start->pre_roll_s,
				       c1 = s->end_s - start->post_roll_s;
				if (c1 <= c0)
					c0 = c1 = (s->start_s + s->end_s) / 2;
				if (t >= c0 - MEDIA_STEP_S && t <= c1 + MEDIA_STEP_S)
					lab = 1;
				else if (lab == 0 && t >= s->start_s && t <= s->end_s)
					lab = 2;
			}
			for (int q = 0; q < MEDIA_NFEAT; q++)
				x[k][q] = media_feature_scaled(q, f->raw[i][q]);
			y[k] = lab == 1;
			wt[k] = lab == 2 ? 0 : 1;
			npos += lab == 1;
			nneg += lab == 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (wt[i] > 0)
			wt[i] = y[i] > 0 ? 0.5f / (npos ? npos : 1) : 0.5f / (nneg ? nneg : 1);
	double w[MEDIA_NFEAT] = {0}, b = 0;
	for (int it = 0; it < 3000; it++) {
		double g[MEDIA_NFEAT] = {0}, gb = 0;
		for (size_t i = 0; i < n; i++) {
			if (wt[i] == 0)
				continue;
			double z = b;
			for (int q = 0; q < MEDIA_NFEAT; q++)
				z += w[q] * x[i][q];
			double err = (1.0 / (1.0 + exp(-z)) - y[i]) * wt[i];
			for (int q = 0; q < MEDIA_NFEAT; q++)
				g[q] += err * x[i][q];
			gb += err;
		}
		for (int q = 0; q < MEDIA_NFEAT; q++)
			w[q] -= 1.0 * (g[q] + 1e-3 * w[q]);
		b -= 1.0 * gb;
	}
	for (int q = 0; q < MEDIA_NFEAT; q++)
		out->w[q] = w[q];
	out->bias = b;
	free(x);
	free(y);
	free(wt);
}

static void logf_line(void (*log)(const char *), const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_line(void (*log)(const char *), const char *fmt, ...)
{
	if (!log)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log(line);
}

/* One coordinate: try each step, keep the best improvement. */
static bool try_steps(const fitset_t *fs, media_model_t *m, double *param, const double *steps, size_t nsteps,
		      double lo, double hi, fitscore_t *best)
{
	double orig = *param, best_v = orig;
	fitscore_t b = *best;
	for (size_t i = 0; i < nsteps; i++) {
		double v = orig + steps[i];
		if (v < lo || v > hi)
			continue;
		*param = v;
		fitscore_t f = assess(fs, m);
		if (f.obj > b.obj + 1e-9) {
			b = f;
			best_v = v;
		}
	}
	*param = best_v;
	*best = b;
	return best_v != orig;
}

void media_fit(const media_features_t *feats, const media_manifest_t *labels, const media_model_t *start,
	       media_model_t *out, media_scores_t *train, void (*log)(const char *line))
{
	fitset_t fs = {.feats = feats, .labels = labels};
	media_model_t lr;
	logistic(&fs, start, &lr);
	fitscore_t s0 = assess(&fs, start), s1 = assess(&fs, &lr);
	logf_line(log, "start model: F1 %.3f AP %.3f; logistic regression: F1 %.3f AP %.3f", s0.s.f1, s0.s.ap,
		  s1.s.f1, s1.s.ap);
	media_model_t m = s1.obj > s0.obj ? lr : *start;
	fitscore_t best = s1.obj > s0.obj ? s1 : s0;
	static const double wsteps[] = {-1.0, -0.5, -0.25, 0.25, 0.5, 1.0};
	static const double tsteps[] = {-0.2, -0.1, -0.05, 0.05, 0.1, 0.2};
	static const double rsteps[] = {-1.0, -0.5, 0.5, 1.0};
	static const double dsteps[] = {-1.0, -0.5, -0.25, 0.25, 0.5, 1.0};
	for (int round = 0; round < 8; round++) {
		bool moved = false;
		for (int k = 0; k < MEDIA_NFEAT; k++)
			moved |= try_steps(&fs, &m, &m.w[k], wsteps, ARRAY_LEN(wsteps), -20, 20, &best);
		moved |= try_steps(&fs, &m, &m.bias, wsteps, ARRAY_LEN(wsteps), -40, 40, &best);
		moved |= try_steps(&fs, &m, &m.threshold, tsteps, ARRAY_LEN(tsteps), 0.05, 0.95, &best);
		moved |= try_steps(&fs, &m, &m.region_drop, dsteps, ARRAY_LEN(dsteps), 0.25, 10, &best);
		moved |= try_steps(&fs, &m, &m.pre_roll_s, rsteps, ARRAY_LEN(rsteps), 0, 10, &best);
		moved |= try_steps(&fs, &m, &m.post_roll_s, rsteps, ARRAY_LEN(rsteps), 0, 10, &best);
		logf_line(log, "round %d: F1 %.3f (P %.3f R %.3f) AP %.3f, objective %.3f", round + 1,
			  best.s.f1, best.s.precision, best.s.recall, best.s.ap, best.obj);
		if (!moved)
			break;
	}
	m.train_f1 = best.s.f1;
	*out = m;
	if (train)
		*train = best.s;
}
