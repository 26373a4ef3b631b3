import type { Highlight } from '../api';
import { formatTime } from './media';

/** Score 0..1 -> a colour from violet (weak) through indigo to cyan (strong). */
export function scoreColor(score: number, alpha = 1): string {
  const s = Math.max(0, Math.min(1, score));
  const hue = 265 - s * 78; // 265 violet -> 187 cyan
  return `hsl(${hue.toFixed(0)} 90% ${(60 + s * 6).toFixed(0)}% / ${alpha})`;
}

export const pctLabel = (score: number) => `${Math.round(Math.max(0, Math.min(1, score)) * 100)}%`;

interface Props {
  duration: number;
  highlights: Highlight[];
  currentTime: number;
  activeId: string | null;
  range: { start: number; end: number } | null; // the export selection, when open
  onSeek: (t: number, highlight?: Highlight) => void;
}

/**
 * The highlight timeline: one mark per highlight (width ∝ duration, colour and
 * opacity ∝ score), a playhead, and the export range when one is being made.
 * Clicking a mark plays from its start; clicking the track seeks there.
 */
export function Timeline({ duration, highlights, currentTime, activeId, range, onSeek }: Props) {
  const d = duration > 0 ? duration : 1;
  const at = (t: number) => `${(Math.max(0, Math.min(d, t)) / d) * 100}%`;
  const seekTrack = (e: MouseEvent) => {
    if ((e.target as HTMLElement).closest('.tl-mark')) return;
    const el = e.currentTarget as HTMLElement;
    const box = el.getBoundingClientRect();
    if (box.width <= 0) return;
    onSeek(((e.clientX - box.left) / box.width) * d);
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="timeline" id="highlight-timeline">
      <div class="tl-track" onClick={seekTrack} aria-label="Highlight timeline" role="group">
        <div class="tl-wave" aria-hidden="true" />
        {range ? (
          <div
            class="tl-range"
            aria-hidden="true"
            style={{ left: at(range.start), width: `${(Math.max(0, range.end - range.start) / d) * 100}%` }}
          />
        ) : null}
        {highlights.map((h) => {
          const score = Math.max(0, Math.min(1, h.score));
          return (
            <button
              type="button"
              key={h.id}
              class={`tl-mark${activeId === h.id ? ' tl-mark-active' : ''}`}
              data-highlight={h.id}
              style={{
                left: at(h.start_s),
                width: `max(8px, ${((h.end_s - h.start_s) / d) * 100}%)`,
                background: `linear-gradient(180deg, ${scoreColor(score, 0.35 + 0.6 * score)}, ${scoreColor(score, 0.2 + 0.5 * score)})`,
                borderColor: scoreColor(score, 0.55 + 0.45 * score),
                boxShadow: score > 0.6 ? `0 0 ${Math.round(6 + 14 * score)}px ${scoreColor(score, 0.5)}` : undefined,
              }}
              title={`#${h.rank} · ${formatTime(h.start_s)}–${formatTime(h.end_s)} · ${pctLabel(score)}${h.reasons[0] ? ` · ${h.reasons[0]}` : ''}`}
              aria-label={`Play highlight ${h.rank}, ${formatTime(h.start_s)} to ${formatTime(h.end_s)}, score ${pctLabel(score)}`}
              onClick={() => onSeek(h.start_s, h)}
            >
              <span class="tl-mark-rank" aria-hidden="true">
                {h.rank}
              </span>
            </button>
          );
        })}
        <div class="tl-playhead" aria-hidden="true" style={{ left: at(currentTime) }} />
      </div>
      <div class="tl-ticks" aria-hidden="true">
        {ticks.map((f) => (
          <span key={f} style={{ left: `${f * 100}%` }}>
            {formatTime(f * duration)}
          </span>
        ))}
      </div>
    </div>
  );
}
