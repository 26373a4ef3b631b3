/*
 * detect_model.c — the detector's weights: model.json in and out.
 *
 * What: a model is a version string, a bias and one weight per feature
 * (named as in media_feature_names), plus the window parameters (threshold,
 * pre/post-roll, length limits, merge gap, count cap) and its provenance
 * (training F1 and set). `cosmiv fit` writes one; the detector reads one.
 *
 * Where the default comes from: src/media/model.json is compiled into the
 * binary with the assembler's .incbin, so the file in the repository *is*
 * the default (no copy in a C string to drift from it) and a deployed binary
 * needs no data file. COSMIV_MEDIA_MODEL=/path/model.json replaces it at run
 * time (e.g. a freshly fitted model), and `cosmiv highlights --model FILE`
 * for one run.
 *
 * Game models: real footage of one game differs from the synthetic set the
 * default is fitted on (its shooting never stops), and no single set of
 * weights over these features serves both (fitted together, the model finds
 * almost nothing in the real matches). A model fitted on recorded matches of
 * a game lists it in "games" and is compiled in the same way; a video whose
 * game matches gets it (media_model_for_game; COSMIV_MEDIA_MODEL replaces
 * only the default). A game model may also name the screen region where the
 * game prints kill messages ("hud"), which the detector then reads. Every
 * model is validated: unknown weights, missing fields and out-of-range values
 * are errors, not silently defaulted.
 */
#include "media/detect.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/* A JSON file compiled in as the NUL-terminated string `sym`; paths are from the repository root, where
 * the Makefile runs the build. */
#define EMBED_JSON(sym, file)                                                                                \
	__asm__(".section .rodata\n"                                                                         \
		".balign 16\n"                                                                               \
		".global " #sym "\n"                                                                         \
		".type " #sym ", @object\n" #sym ":\n"                                                       \
		".incbin \"" file "\"\n"                                                                     \
		".byte 0\n"                                                                                  \
		".size " #sym ", . - " #sym "\n"                                                             \
		".previous\n");                                                                              \
	extern const char sym[]
EMBED_JSON(media_model_json_default, "src/media/model.json");
EMBED_JSON(media_model_json_openarena, "src/media/model-openarena.json");

static bool num_field(json_t *o, const char *name, double lo, double hi, double *out, err_t *e)
{
	json_t *v = json_object_get(o, name);
	if (!json_is_number(v))
		return err_set(e, ERR_INVALID, "bad_model", name, "model: \"%s\" must be a number", name);
	double x = json_number_value(v);
	if (!isfinite(x) || x < lo || x > hi)
		return err_set(e, ERR_INVALID, "bad_model", name, "model: \"%s\" = %g is outside [%g, %g]",
			       name, x, lo, hi);
	*out = x;
	return true;
}

/* "hud": {"region": [x0, y0, x1, y1], "min_text": share, "what": "kill message"} (detect.h) */
static bool parse_hud(json_t *h, media_model_t *m, err_t *e)
{
	json_t *r = json_object_get(h, "region");
	double v[4];
	if (!json_is_object(h) || !json_is_array(r) || json_array_size(r) != 4)
		return err_set(e, ERR_INVALID, "bad_model", "hud",
			       "model: \"hud\" must be an object with \"region\": [x0, y0, x1, y1]");
	for (size_t i = 0; i < 4; i++) {
		json_t *x = json_array_get(r, i);
		v[i] = json_is_number(x) ? json_number_value(x) : -1;
		if (!(v[i] >= 0 && v[i] <= 1))
			return err_set(e, ERR_INVALID, "bad_model", "hud",
				       "model: hud region values are fractions of the frame, 0..1");
	}
	if (!(v[2] - v[0] >= 0.01 && v[3] - v[1] >= 0.01))
		return err_set(e, ERR_INVALID, "bad_model", "hud",
			       "model: the hud region needs x0 < x1 and y0 < y1 (at least 1 %% apart)");
	if (!num_field(h, "min_text", 0.0001, 1, &m->hud.min_text, e))
		return false;
	const char *what = json_string_value(json_object_get(h, "what"));
	if (!what || !*what || strlen(what) >= sizeof(m->hud.what))
		return err_set(e, ERR_INVALID, "bad_model", "hud",
			       "model: hud \"what\" must be a string of 1-47 bytes (\"kill message\")");
	str_copy(m->hud.what, sizeof(m->hud.what), what);
	m->hud.x0 = v[0];
	m->hud.y0 = v[1];
	m->hud.x1 = v[2];
	m->hud.y1 = v[3];
	m->hud.on = true;
	return true;
}

bool media_model_parse(const char *text, media_model_t *m, err_t *e)
{
	memset(m, 0, sizeof(*m));
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, ERR_INVALID, "bad_model", NULL, "model: not a JSON object (line %d: %s)",
			       je.line, je.text);
	}
	bool ok = false;
	const char *ver = json_string_value(json_object_get(o, "version"));
	json_t *w = json_object_get(o, "weights");
	double mh = 0;
	if (!ver || !*ver || strlen(ver) >= sizeof(m->version)) {
		err_set(e, ERR_INVALID, "bad_model", "version",
			"model: \"version\" must be a string of 1-63 bytes");
		goto out;
	}
	str_copy(m->version, sizeof(m->version), ver);
	if (!json_is_object(w)) {
		err_set(e, ERR_INVALID, "bad_model", "weights", "model: \"weights\" must be an object");
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(w, key, val)
	{
		int k = 0;
		while (k < MEDIA_NFEAT && strcmp(media_feature_names[k], key) != 0)
			k++;
		if (k == MEDIA_NFEAT) {
			err_set(e, ERR_INVALID, "bad_model", key, "model: unknown feature \"%s\" in weights",
				key);
			goto out;
		}
		if (!json_is_number(val) || fabs(json_number_value(val)) > 100) {
			err_set(e, ERR_INVALID, "bad_model", key,
				"model: weight \"%s\" must be a number in [-100, 100]", key);
			goto out;
		}
		m->w[k] = json_number_value(val);
	}
	if (!num_field(o, "bias", -100, 100, &m->bias, e) ||
	    !num_field(o, "threshold", 0, 1, &m->threshold, e) ||
	    !num_field(o, "region_drop", 0, 20, &m->region_drop, e) ||
	    !num_field(o, "pre_roll_s", 0, 30, &m->pre_roll_s, e) ||
	    !num_field(o, "post_roll_s", 0, 30, &m->post_roll_s, e) ||
	    !num_field(o, "min_len_s", 0, 600, &m->min_len_s, e) ||
	    !num_field(o, "max_len_s", 1, 600, &m->max_len_s, e) ||
	    !num_field(o, "merge_gap_s", 0, 60, &m->merge_gap_s, e) ||
	    !num_field(o, "max_highlights", 1, 1000, &mh, e))
		goto out;
	if (m->min_len_s > m->max_len_s) {
		err_set(e, ERR_INVALID, "bad_model", "min_len_s",
			"model: min_len_s is larger than max_len_s");
		goto out;
	}
	m->max_highlights = (int)mh;
	json_t *games = json_object_get(o, "games");
	if (games && (!json_is_array(games) || json_array_size(games) > 4)) {
		err_set(e, ERR_INVALID, "bad_model", "games",
			"model: \"games\" must be a list of at most 4 names");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(games); i++) {
		const char *g = json_string_value(json_array_get(games, i));
		if (!g || !*g || strlen(g) >= sizeof(m->games[0])) {
			err_set(e, ERR_INVALID, "bad_model", "games",
				"model: a game name must be 1-63 bytes");
			goto out;
		}
		str_copy(m->games[m->n_games++], sizeof(m->games[0]), g);
	}
	json_t *hud = json_object_get(o, "hud");
	if (hud && !parse_hud(hud, m, e))
		goto out;
	json_t *tr = json_object_get(o, "training");
	if (json_is_object(tr)) {
		json_t *f1 = json_object_get(tr, "f1");
		if (json_is_number(f1))
			m->train_f1 = json_number_value(f1);
		const char *on = json_string_value(json_object_get(tr, "set"));
		if (on)
			str_copy(m->trained_on, sizeof(m->trained_on), on);
	}
	ok = true;
out:
	json_decref(o);
	return ok;
}

bool media_model_load(const char *path, media_model_t *m, err_t *e)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return err_set(e, ERR_NOT_FOUND, "model_unreadable", NULL, "cannot read model %s", path);
	buf_t b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < (1u << 20))
		buf_append(&b, chunk, n);
	fclose(fp);
	bool ok = media_model_parse(b.data ? b.data : "", m, e);
	if (!ok) {
		char *detail = xasprintf("%s: %s", path, e->detail);
		str_copy(e->detail, sizeof(e->detail), detail);
		free(detail);
	}
	buf_cleanup(&b);
	return ok;
}

static const char *const compiled_games[] = {media_model_json_openarena};

int media_game_models(media_model_t *out, int max, err_t *e)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(compiled_games) / sizeof(compiled_games[0]) && n < max; i++)
		if (!media_model_parse(compiled_games[i], &out[n++], e))
			return -1;
	return n;
}

bool media_model_for_game(const char *game, media_model_t *m, err_t *e)
{
	for (size_t i = 0; game && *game && i < sizeof(compiled_games) / sizeof(compiled_games[0]); i++) {
		if (!media_model_parse(compiled_games[i], m, e))
			return false;
		for (int k = 0; k < m->n_games; k++)
			if (strcasecmp(m->games[k], game) == 0)
				return true;
	}
	return media_model_default(m, e);
}

bool media_model_default(media_model_t *m, err_t *e)
{
	const char *path = getenv("COSMIV_MEDIA_MODEL");
	if (path && *path)
		return media_model_load(path, m, e);
	return media_model_parse(media_model_json_default, m, e);
}

char *media_model_to_json(const media_model_t *m)
{
	json_t *w = json_object();
	for (int k = 0; k < MEDIA_NFEAT; k++)
		json_object_set_new(w, media_feature_names[k], json_real(round(m->w[k] * 1e4) / 1e4));
	json_t *o =
	    json_pack("{s:s, s:f, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i}", "version", m->version,
		      "bias", round(m->bias * 1e4) / 1e4, "weights", w, "threshold", m->threshold,
		      "region_drop", m->region_drop, "pre_roll_s", m->pre_roll_s, "post_roll_s",
		      m->post_roll_s, "min_len_s", m->min_len_s, "max_len_s", m->max_len_s, "merge_gap_s",
		      m->merge_gap_s, "max_highlights", m->max_highlights);
	if (m->n_games) {
		json_t *g = json_array();
		for (int k = 0; k < m->n_games; k++)
			json_array_append_new(g, json_string(m->games[k]));
		json_object_set_new(o, "games", g);
	}
	if (m->hud.on)
		json_object_set_new(o, "hud",
				    json_pack("{s:[f,f,f,f], s:f, s:s}", "region", m->hud.x0, m->hud.y0,
					      m->hud.x1, m->hud.y1, "min_text", m->hud.min_text, "what",
					      m->hud.what));
	if (m->trained_on[0])
		json_object_set_new(
		    o, "training",
		    json_pack("{s:f, s:s}", "f1", round(m->train_f1 * 1e4) / 1e4, "set", m->trained_on));
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	char *out = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return out;
}

bool media_model_save(const media_model_t *m, const char *path, err_t *e)
{
	char *text = media_model_to_json(m);
	FILE *fp = fopen(path, "wb");
	bool ok = fp && fputs(text, fp) >= 0;
	if (fp && fclose(fp) != 0)
		ok = false;
	free(text);
	if (!ok)
		return err_set(e, ERR_UNAVAILABLE, "model_unwritable", NULL, "cannot write %s", path);
	return true;
}
