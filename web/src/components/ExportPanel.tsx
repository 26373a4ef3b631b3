import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, CLIP_MAX_S, CLIP_MIN_S, createClip, type Aspect, type Clip, type Fill, type Video } from '../api';
import { Link } from '../router';
import { ErrorBox } from './ui';
import { ASPECTS, AspectShape, Icon, formatTimePrecise, parseTime } from './media';

export interface ExportPreset {
  start: number;
  end: number;
  highlightId?: string;
  title?: string;
}

interface Props {
  video: Video;
  duration: number;
  preset: ExportPreset;
  currentTime: () => number;
  onPreview: (start: number, end: number) => void;
  onRange: (range: { start: number; end: number }) => void;
  onClose: () => void;
  onCreated: (clip: Clip, highlightId?: string) => void;
}

const round1 = (t: number) => Math.round(t * 10) / 10;

function TimeField({
  id,
  label,
  value,
  error,
  onCommit,
  onNow,
}: {
  id: string;
  label: string;
  value: number;
  error?: string | null;
  onCommit: (t: number | null, raw: string) => void;
  onNow: () => void;
}) {
  const [text, setText] = useState(formatTimePrecise(value));
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setText(formatTimePrecise(value));
  }, [value, editing]);
  const commit = () => {
    setEditing(false);
    onCommit(parseTime(text), text);
  };
  return (
    <div class={error ? 'field time-field field-invalid' : 'field time-field'}>
      <label for={id}>{label}</label>
      <div class="time-input-row">
        <input
          id={id}
          name={id}
          inputMode="decimal"
          autocomplete="off"
          spellcheck={false}
          value={text}
          placeholder="m:ss.s"
          onFocus={() => setEditing(true)}
          onInput={(e) => {
            setEditing(true);
            setText((e.currentTarget as HTMLInputElement).value);
          }}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              commit();
            }
          }}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? `${id}-error` : `${id}-hint`}
        />
        <button type="button" class="btn btn-ghost btn-sm" id={`${id}-now`} onClick={onNow} title="Use the player's current time">
          Set from current time
        </button>
      </div>
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : (
        <p class="field-hint" id={`${id}-hint`}>
          m:ss.s
        </p>
      )}
    </div>
  );
}

export function ExportPanel({ video, duration, preset, currentTime, onPreview, onRange, onClose, onCreated }: Props) {
  const max = Math.max(0, duration);
  const [start, setStart] = useState(round1(Math.max(0, Math.min(preset.start, max))));
  const [end, setEnd] = useState(round1(Math.max(0, Math.min(preset.end, max))));
  const [aspect, setAspect] = useState<Aspect>('16:9');
  const [fill, setFill] = useState<Fill>('crop');
  const [title, setTitle] = useState(preset.title ?? `${video.title} clip`);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string | null>>({});
  const [created, setCreated] = useState<Clip | null>(null);
  const root = useRef<HTMLFormElement>(null);

  useEffect(() => {
    onRange({ start, end });
  }, [start, end]);

  useEffect(() => {
    root.current?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }, [preset]);

  const length = round1(end - start);
  const lengthError =
    length < CLIP_MIN_S ? `A clip must be at least ${CLIP_MIN_S} s long.` : length > CLIP_MAX_S ? `A clip can be at most ${CLIP_MAX_S / 60} minutes long.` : null;

  const setStartClamped = (t: number) => {
    const v = round1(Math.max(0, Math.min(t, max)));
    setStart(v);
    if (v > end) setEnd(v);
    setFields((f) => ({ ...f, start_s: null, end_s: null }));
    setMessage(null);
    setCreated(null);
  };
  const setEndClamped = (t: number) => {
    const v = round1(Math.max(0, Math.min(t, max)));
    setEnd(v);
    if (v < start) setStart(v);
    setFields((f) => ({ ...f, start_s: null, end_s: null }));
    setMessage(null);
    setCreated(null);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setMessage(null);
    setFields({});
    if (lengthError) {
      setFields({ end_s: lengthError });
      setMessage(lengthError);
      document.getElementById('export-end')?.focus();
      return;
    }
    setBusy(true);
    try {
      const clip = await createClip({
        video_id: video.id,
        start_s: start,
        end_s: end,
        aspect,
        ...(aspect !== '16:9' ? { fill } : {}),
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(preset.highlightId ? { highlight_id: preset.highlightId } : {}),
      });
      setCreated(clip);
      onCreated(clip, preset.highlightId);
    } catch (err) {
      if (err instanceof ApiError) {
        setMessage(err.message);
        if (err.field === 'start_s' || err.field === 'end_s' || err.field === 'title' || err.field === 'aspect' || err.field === 'fill') {
          setFields({ [err.field]: err.message });
          const focus = { start_s: 'export-start', end_s: 'export-end', title: 'export-title' }[err.field as 'start_s'];
          if (focus) document.getElementById(focus)?.focus();
        }
        if (err.status === 404 || err.status === 501) {
          setMessage('Clip export is not available yet. Try again soon.');
        }
      } else {
        setMessage('Something went wrong. Please try again.');
      }
    } finally {
      setBusy(false);
    }
  };

  const pos = (t: number) => (max > 0 ? (t / max) * 100 : 0);
  const step = max > 600 ? 0.5 : 0.1;

  return (
    <form class="card export-panel" id="export-panel" ref={root} noValidate onSubmit={submit} aria-labelledby="export-title-h">
      <div class="export-head">
        <h2 id="export-title-h">
          <Icon name="scissors" /> Export a clip
        </h2>
        <button type="button" class="btn btn-ghost btn-sm" onClick={onClose} aria-label="Close the export panel">
          Close
        </button>
      </div>
      <ErrorBox message={message} id="export-error" />

      <fieldset class="export-section">
        <legend>Trim</legend>
        <div class="dual-range" style={{ '--a': `${pos(start)}%`, '--b': `${pos(end)}%` }}>
          <div class="dual-range-track" aria-hidden="true">
            <div class="dual-range-sel" />
          </div>
          <input
            type="range"
            id="export-start-range"
            min={0}
            max={max}
            step={step}
            value={start}
            aria-label="Clip start"
            aria-valuetext={formatTimePrecise(start)}
            onInput={(e) => setStartClamped(Math.min(Number((e.currentTarget as HTMLInputElement).value), end))}
          />
          <input
            type="range"
            id="export-end-range"
            min={0}
            max={max}
            step={step}
            value={end}
            aria-label="Clip end"
            aria-valuetext={formatTimePrecise(end)}
            onInput={(e) => setEndClamped(Math.max(Number((e.currentTarget as HTMLInputElement).value), start))}
          />
        </div>
        <div class="time-grid">
          <TimeField
            id="export-start"
            label="Start"
            value={start}
            error={fields.start_s}
            onCommit={(t) => {
              if (t === null) setFields((f) => ({ ...f, start_s: 'Use m:ss.s, for example 1:05.5.' }));
              else setStartClamped(t);
            }}
            onNow={() => setStartClamped(currentTime())}
          />
          <TimeField
            id="export-end"
            label="End"
            value={end}
            error={fields.end_s}
            onCommit={(t) => {
              if (t === null) setFields((f) => ({ ...f, end_s: 'Use m:ss.s, for example 1:12.0.' }));
              else setEndClamped(t);
            }}
            onNow={() => setEndClamped(currentTime())}
          />
        </div>
        <div class="trim-summary">
          <span class={lengthError ? 'trim-length trim-length-bad' : 'trim-length'} id="export-length">
            Length {formatTimePrecise(Math.max(0, length))}
          </span>
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => onPreview(start, end)}>
            <Icon name="play" /> Preview
          </button>
        </div>
      </fieldset>

      <fieldset class="export-section">
        <legend>Format</legend>
        <div class="choice-grid" role="radiogroup" aria-label="Aspect ratio">
          {ASPECTS.map((a) => (
            <label class={`choice${aspect === a.value ? ' choice-on' : ''}`} key={a.value}>
              <input
                type="radio"
                name="aspect"
                value={a.value}
                checked={aspect === a.value}
                onChange={() => {
                  setAspect(a.value);
                  setCreated(null);
                }}
                class="sr-only"
                data-aspect={a.value}
              />
              <span class="choice-shape">
                <AspectShape aspect={a.value} size={30} />
              </span>
              <span class="choice-label">{a.label}</span>
              <span class="choice-hint">{a.hint}</span>
            </label>
          ))}
        </div>
        {aspect !== '16:9' ? (
          <div class="choice-grid choice-grid-2" role="radiogroup" aria-label="Fill">
            {(
              [
                { value: 'crop', label: 'Crop', hint: 'Fill the frame, trim the sides' },
                { value: 'blur', label: 'Blurred background', hint: 'Whole picture, blurred bars' },
              ] as const
            ).map((f) => (
              <label class={`choice choice-fill${fill === f.value ? ' choice-on' : ''}`} key={f.value}>
                <input
                  type="radio"
                  name="fill"
                  value={f.value}
                  checked={fill === f.value}
                  onChange={() => setFill(f.value)}
                  class="sr-only"
                  data-fill={f.value}
                />
                <span class={`fill-preview fill-${f.value} fill-${aspect === '9:16' ? 'tall' : 'square'}`} aria-hidden="true">
                  <span class="fill-frame" />
                </span>
                <span class="choice-label">{f.label}</span>
                <span class="choice-hint">{f.hint}</span>
              </label>
            ))}
          </div>
        ) : null}
      </fieldset>

      <div class={fields.title ? 'field field-invalid' : 'field'}>
        <label for="export-title">Clip title</label>
        <input
          id="export-title"
          name="title"
          value={title}
          maxLength={200}
          onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={fields.title ? 'true' : undefined}
        />
        {fields.title ? <p class="field-error">{fields.title}</p> : null}
      </div>

      <div class="btn-row">
        <button type="submit" class="btn btn-primary" id="export-submit" disabled={busy}>
          {busy ? 'Exporting…' : `Export ${aspect} clip`}
        </button>
        {created ? (
          <p class="notice export-done" role="status" id="export-done">
            Clip on its way. <Link href="/clips">See it in My clips</Link>
          </p>
        ) : null}
      </div>
    </form>
  );
}
