/*
 * detect.h — highlight detection for gameplay videos.
 *
 * What: given a local video file, find the moments worth a clip (fights,
 * explosions, flurries of cuts) and say why, in words: "loudness spike
 * +18 dB over the last 10 s", "7 sound onsets in 2 s", "3 scene cuts in 4 s",
 * "bright flash". The result is a ranked list of 5–20 s windows with a score
 * in 0..1.
 *
 * How (detect.c has the long version): audio is cheap, video is not. The
 * audio track is decoded completely and measured every 50 ms (K-weighted
 * loudness, spectral flux, onsets). The video track is mostly *not* decoded:
 * every packet's size and key flag come free with demuxing and give a motion
 * and discontinuity signal at full frame rate; only keyframes are decoded, at
 * 64x36 gray. Both become per-moment features (one moment every 0.5 s), a
 * logistic model (model.json) turns them into a score, peaks become windows.
 * Finally the frames around the strongest candidates are decoded (a bounded
 * budget) so that claims about cuts, flashes and motion are checked on
 * pixels before they are printed.
 *
 * Safety: files are opened with probe.c's media_input_open (the "file"
 * protocol only, demuxers allow-listed from the bytes before they parse
 * anything: mp4/mov, matroska/webm, avi, flv, mpeg-ts; playlists cannot
 * reach other files), decoders must be on media_codec_allowed's list, and
 * absurd headers (no streams, zero or > 12 h duration, frames over 8192
 * pixels a side) are refused with a clear error. Audio-only and video-only
 * files in those containers are analysed with the signals they have. The
 * server still runs this in a sandboxed child process (DESIGN.md).
 *
 * Ownership: media_detect_highlights fills a caller-owned media_result_t;
 * everything it points to is heap memory released by media_result_free
 * (which also accepts a zeroed or already freed result). media_features_t
 * is the same: caller-owned struct, media_features_free. media_model_t is
 * plain data (no pointers): copy it freely.
 *
 * Threads: no global state; any thread may run a detection (FFmpeg decoders
 * start their own threads). The progress callback runs on the calling thread.
 */
#ifndef COSMIV_MEDIA_DETECT_H
#define COSMIV_MEDIA_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ==== Model ==== */

/*
 * Per-moment features, in natural units (media_feature_scaled() maps them to
 * the model's input ranges). One row every MEDIA_STEP_S seconds.
 */
enum {
	MEDIA_F_LOUD_JUMP,    /* dB: loudest 400 ms within ±0.5 s over the median of the previous 10 s */
	MEDIA_F_ONSETS,	      /* sound onsets (gunshot-like attacks) within ±1 s */
	MEDIA_F_ONSET_EXCESS, /* onsets within ±1 s minus their usual count over the previous 10 s */
	MEDIA_F_BURST,	      /* dB: spread (p90 - p10) of 50 ms loudness within ±1 s */
	MEDIA_F_LEVEL,	      /* dB: loudness (400 ms) over the median of the whole file */
	MEDIA_F_SUSTAIN,      /* dB: mean loudness within ±3 s over the median of the whole file */
	MEDIA_F_TONAL,	/* 0..1: how tonal (music-like) the sound is within ±1 s; noise and gunfire are ~0 */
	MEDIA_F_MOTION, /* log2: video bits per frame within ±0.5 s over the median of the previous 10 s */
	MEDIA_F_CUTS,	/* picture discontinuities (cuts or flashes) within ±2 s */
	MEDIA_F_FLASH,	/* bright flashes within ±1 s */
	MEDIA_F_HUD,	/* messages appearing in a game model's HUD region (kill messages) within ±3 s */
	MEDIA_NFEAT
};
#define MEDIA_STEP_S 0.5

/* Stable names used in model.json ("loud_jump", ...). */
extern const char *const media_feature_names[MEDIA_NFEAT];

typedef struct {
	char version[64];
	double bias;
	double w[MEDIA_NFEAT]; /* weights of the scaled features */
	double threshold;      /* a peak must score at least this (0..1) to be a highlight */
	double region_drop;    /* a highlight's core: neighbours whose logit is within this of the peak's */
	double pre_roll_s;     /* added before the core */
	double post_roll_s;    /* added after the core */
	double min_len_s;      /* windows are grown to at least this */
	double max_len_s;      /* ... and cut (around the peak) to at most this */
	double merge_gap_s;    /* windows closer than this are merged (if the result fits max_len_s) */
	int max_highlights;    /* keep the best N per 5 minutes of video */
	double train_f1;       /* provenance, written by `cosmiv fit`: F1 at IoU 0.5 on ... */
	char trained_on[128];  /* ... this set */
	char games[4][64];     /* a game model: the games it was fitted on ("games" in the file) */
	int n_games;
	/*
	 * A game model may name the screen region where the game prints what the
	 * player did ("You fragged X"): "hud": {"region": [x0, y0, x1, y1] (fractions
	 * of the frame), "min_text": share of the region's sample points that must
	 * be text edges for a message to be on screen, "what": "kill message"}.
	 * With it, the reference frames of the whole video are decoded (about half
	 * the cost of a full decode) to read when messages appear (MEDIA_F_HUD).
	 */
	struct {
		bool on;
		double x0, y0, x1, y1;
		double min_text;
		char what[48];
	} hud;
} media_model_t;

/*
 * The default model: the file named by env COSMIV_MEDIA_MODEL when set and
 * non-empty, otherwise src/media/model.json as compiled into the binary.
 */
bool media_model_default(media_model_t *m, err_t *e);
/*
 * The model for a video of `game` (a user's free text, may be NULL): a model
 * compiled in for that game (src/media/model-<game>.json, matched without
 * regard to case) when there is one, otherwise media_model_default() (so
 * COSMIV_MEDIA_MODEL replaces only the default).
 */
bool media_model_for_game(const char *game, media_model_t *m, err_t *e);
/* The game models compiled in (out holds max), in a stable order; returns how many, or -1 with e set. */
int media_game_models(media_model_t *out, int max, err_t *e);
bool media_model_load(const char *path, media_model_t *m, err_t *e);
bool media_model_parse(const char *json, media_model_t *m, err_t *e);
/* JSON text of the model (heap string, caller frees). */
char *media_model_to_json(const media_model_t *m);
bool media_model_save(const media_model_t *m, const char *path, err_t *e);

/* ==== Detection ==== */

typedef void (*media_progress_fn)(void *ctx, int percent, const char *stage);

typedef struct {
	const media_model_t *model; /* NULL: media_model_default() */
	media_progress_fn progress; /* optional; called with 0..100 and a stage name */
	void *progress_ctx;
	double refine_budget; /* share of the video's packets the refine stage may decode;
				 0 = default (0.05), negative = no refine stage */
	bool decode_all;      /* analyse every video frame's pixels (slow; for `cosmiv fit` and tests) */
} media_detect_opts_t;

typedef struct {
	double start_s, end_s;
	double peak_s; /* the strongest moment */
	double score;  /* 0..1 */
	char **reasons;
	size_t n_reasons;
} media_highlight_t;

typedef struct {
	double duration_s;
	int width, height; /* 0 without video */
	double fps;	   /* 0 without video */
	bool has_audio, has_video;
	char container[32];
	char video_codec[32];
	char audio_codec[32];
	char model_version[64];
	media_highlight_t *highlights; /* ranked, best first */
	size_t n_highlights;
	char **notes; /* whole-file remarks ("no audio stream: ...") */
	size_t n_notes;
	struct {
		double probe, decode, features, refine, scoring, total;
	} timings_ms;
	int64_t video_packets;	/* video frames in the file */
	int64_t frames_decoded; /* video frames actually decoded (keyframes + refine windows) */
} media_result_t;

bool media_detect_highlights(const char *path, const media_detect_opts_t *opts, media_result_t *out,
			     err_t *e);
void media_result_free(media_result_t *r);

/* ==== Features (for `cosmiv fit` and `cosmiv eval`) ==== */

/*
 * Everything the scoring stage needs, so a model can be re-scored without
 * decoding again. When extracted with decode_all, the pixel evidence (cuts,
 * flashes, motion) is known for every moment and scoring uses it the way the
 * refine stage would.
 */
typedef struct {
	size_t n;		       /* moments, one every MEDIA_STEP_S */
	float (*raw)[MEDIA_NFEAT];     /* n rows */
	float *pix_motion;	       /* n: mean abs frame difference (0..255, per 1/30 s), NaN if unknown */
	uint8_t *pix_cuts, *pix_flash; /* n: verified cuts / flashes starting in the moment */
	uint8_t *pix_known;	       /* n: 1 where pixels were analysed */
	double duration_s;
	bool has_audio, has_video;
} media_features_t;

/* Runs the analysis (probe, decode, features; refine only with decode_all). */
bool media_extract_features(const char *path, const media_detect_opts_t *opts, media_features_t *f,
			    media_result_t *meta, err_t *e);
void media_features_free(media_features_t *f);

/*
 * Scores f with model m and fills out->highlights (ranked, with reasons).
 * Other fields of out are left alone.
 */
void media_pick_highlights(const media_features_t *f, const media_model_t *m, media_result_t *out);

/* ==== Evaluation ==== */

typedef struct {
	double start_s, end_s;
} media_span_t;

/* One labelled video of a manifest. */
typedef struct {
	char *video; /* absolute or relative to the current directory */
	media_span_t *truth;
	size_t n_truth;
} media_labelled_t;

typedef struct {
	media_labelled_t *items;
	size_t n;
} media_manifest_t;

/*
 * Reads a manifest: a JSON list (or {"videos": [...]}) of
 * {"video": PATH, "highlights": [{"start_s", "end_s"} | {"start", "end"}]}.
 * Video paths are resolved against the manifest's directory.
 */
bool media_manifest_load(const char *path, media_manifest_t *m, err_t *e);
void media_manifest_free(media_manifest_t *m);

typedef struct {
	int n_truth, n_pred, tp;
	double precision, recall, f1, ap;
} media_scores_t;

/*
 * Matches predictions (ranked by score) to the truth at temporal IoU >= min_iou,
 * one to one, greedily by score. matched (optional, n_pred entries) receives
 * 1 for true positives. AP is VOC-style: the area under the interpolated
 * precision/recall curve of the ranked list.
 */
void media_match(const media_highlight_t *pred, size_t n_pred, const media_span_t *truth, size_t n_truth,
		 double min_iou, media_scores_t *out, uint8_t *matched);
double media_iou(double a0, double a1, double b0, double b1);
/* AP of a ranked list: scores and tp flags of all predictions (any order), n_truth positives. */
double media_average_precision(const double *score, const uint8_t *tp, size_t n, int n_truth);

/*
 * Re-fits a model on labelled features: logistic regression of the moments
 * against the labelled windows, then a coordinate search of the weights and
 * window parameters for the best F1 at IoU 0.5. start is the model to begin
 * from; log (optional) receives progress lines.
 */
void media_fit(const media_features_t *feats, const media_manifest_t *labels, const media_model_t *start,
	       media_model_t *out, media_scores_t *train, void (*log)(const char *line));

/* ==== Internal to src/media (the detector's own files and cli.c) ==== */

/* Audio analysis (detect_audio.c): feed mono float samples at 16 kHz. */
typedef struct media_audio media_audio_t;
typedef struct {
	size_t n;	/* 50 ms blocks */
	double block_s; /* 0.05 */
	float *loud;	/* dB of each block (K-weighted) */
	float *mom;	/* dB of the 400 ms ending at each block */
	float *flux;	/* mean spectral rise in dB */
	float *tonal;	/* tonality 0..1 (spectral flatness: 0 for noise, towards 1 for pure tones) */
	uint8_t *onset; /* 1 where an onset starts */
} media_audio_series_t;

media_audio_t *media_audio_new(err_t *e);
void media_audio_free(media_audio_t *a);
/* x == NULL pushes n samples of silence (gaps in the stream). */
void media_audio_push(media_audio_t *a, const float *x, size_t n);
size_t media_audio_samples(const media_audio_t *a);
/* Finds onsets, moves the series into out and frees a. */
void media_audio_finish(media_audio_t *a, media_audio_series_t *out);
void media_audio_series_free(media_audio_series_t *s);
/* Median of n floats; scratch holds n floats. */
float media_median(const float *x, size_t n, float *scratch);

/* Video analysis (detect_features.c) works on what demuxing and 64x36 gray frames give. */
#define MEDIA_GRAY_W 64
#define MEDIA_GRAY_H 36
typedef struct {
	double t;
	uint32_t bytes;
	bool key;
} media_vpacket_t;

typedef struct {
	double t;
	float luma; /* mean, 0..255 */
} media_keyframe_t;

/* Streaming pixel analysis of consecutive decoded frames: cuts, flashes, motion. */
typedef struct {
	uint8_t prev[MEDIA_GRAY_W * MEDIA_GRAY_H];
	uint8_t before_flash[MEDIA_GRAY_W * MEDIA_GRAY_H];
	bool have_prev;
	bool pending;  /* a bright jump: a flash if the picture comes back within 0.3 s, else a cut */
	int pend_left; /* frames left to come back */
	size_t pend_m; /* the moment of the jump */
	double prev_t;
	double *mad_sum;
	int *mad_n;
} media_pixels_t;

void media_pixels_init(media_pixels_t *p, const media_features_t *f);
void media_pixels_cleanup(media_pixels_t *p);
/* Starts a new run of consecutive frames (after a seek). */
void media_pixels_restart(media_pixels_t *p, media_features_t *f);
void media_pixels_feed(media_pixels_t *p, media_features_t *f, double t, double fps, const uint8_t *gray);
/* Marks moments wholly inside [a, b] as analysed and stores their mean motion. */
void media_pixels_commit(media_pixels_t *p, media_features_t *f, double a, double b);

/* Allocates f for a file of the given duration and fills the raw features. */
void media_features_build(media_features_t *f, double duration, const media_audio_series_t *au,
			  const media_vpacket_t *pk, size_t npk, const media_keyframe_t *kf, size_t nkf);
/* The model's input: raw feature k scaled and clamped to a few units. */
float media_feature_scaled(int k, float raw);
/* Peaks of the first scoring pass (proxies only), best first: their times go into peaks_s. */
size_t media_candidates(const media_features_t *f, const media_model_t *m, double *peaks_s, size_t max);

#endif
