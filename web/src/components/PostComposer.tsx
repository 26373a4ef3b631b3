import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  POST_DESCRIPTION_MAX,
  POST_GAME_MAX,
  POST_TAGS_MAX,
  POST_TITLE_MAX,
  TAG_RE,
  createPost,
  getVideo,
  type Clip,
  type Post,
  type Visibility,
} from '../api';
import { ErrorBox } from './ui';

/** "ace, clutch #1v3" -> tags, or the reason they are not valid. */
export function parseTags(text: string): { tags: string[]; error: string | null } {
  const tags: string[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    const t = raw.trim().replace(/^#/, '');
    if (!t) continue;
    if (!TAG_RE.test(t)) return { tags, error: `"${t}" is not a tag: use letters, digits, _ or -, up to 32.` };
    if (!tags.some((x) => x.toLowerCase() === t.toLowerCase())) tags.push(t);
  }
  if (tags.length > POST_TAGS_MAX) return { tags, error: `At most ${POST_TAGS_MAX} tags.` };
  return { tags, error: null };
}

export function TagsField({ id, value, onValue, error }: { id: string; value: string; onValue: (v: string) => void; error?: string | null }) {
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>
        Tags <span class="optional muted">(optional)</span>
      </label>
      <input
        id={id}
        value={value}
        placeholder="ace, clutch"
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={`${id}-help`}
      />
      <p class={error ? 'field-error' : 'field-hint'} id={`${id}-help`}>
        {error ?? `Comma separated, up to ${POST_TAGS_MAX}.`}
      </p>
    </div>
  );
}

const VIS: { value: Visibility; label: string; hint: string }[] = [
  { value: 'public', label: 'Public', hint: 'Anyone, and the feeds' },
  { value: 'followers', label: 'Followers', hint: 'Only people who follow you' },
  { value: 'private', label: 'Private', hint: 'Only you' },
];

export function VisibilityField({ name, value, onValue }: { name: string; value: Visibility; onValue: (v: Visibility) => void }) {
  return (
    <fieldset class="vis-field">
      <legend>Who can see it</legend>
      <div class="seg" role="radiogroup" aria-label="Who can see it">
        {VIS.map((v) => (
          <label class={`seg-item${value === v.value ? ' seg-on' : ''}`} key={v.value} title={v.hint}>
            <input type="radio" class="sr-only" name={name} value={v.value} checked={value === v.value} onChange={() => onValue(v.value)} />
            <span>{v.label}</span>
          </label>
        ))}
      </div>
      <p class="field-hint">{VIS.find((v) => v.value === value)?.hint}</p>
    </fieldset>
  );
}

/** Post a ready clip: title, description, game, tags, visibility -> POST /posts. */
export function PostComposer({ clip, onPosted, onCancel }: { clip: Clip; onPosted: (post: Post) => void; onCancel: () => void }) {
  const [title, setTitle] = useState((clip.title ?? '').slice(0, POST_TITLE_MAX));
  const [description, setDescription] = useState('');
  const [game, setGame] = useState('');
  const [tags, setTags] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const gameTouched = useRef(false);
  const root = useRef<HTMLFormElement>(null);
  const pid = `post-${clip.id}`;

  useEffect(() => {
    root.current?.querySelector<HTMLInputElement>('input')?.focus();
    // Prefill the game from the clip's video.
    let live = true;
    getVideo(clip.video_id)
      .then((v) => {
        if (live && v.game && !gameTouched.current) setGame(v.game.slice(0, POST_GAME_MAX));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [clip.id]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const t = title.trim();
    const parsed = parseTags(tags);
    const errs: Record<string, string> = {};
    if (!t) errs.title = 'Give your post a title.';
    else if (t.length > POST_TITLE_MAX) errs.title = `At most ${POST_TITLE_MAX} characters.`;
    if (description.length > POST_DESCRIPTION_MAX) errs.description = `At most ${POST_DESCRIPTION_MAX} characters.`;
    if (parsed.error) errs.tags = parsed.error;
    if (Object.keys(errs).length) {
      setFields(errs);
      setError(Object.keys(errs).length === 1 ? Object.values(errs)[0] : 'Please fix the highlighted fields.');
      document.getElementById(`${pid}-${Object.keys(errs)[0]}`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const post = await createPost({
        clip_id: clip.id,
        title: t,
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(game.trim() ? { game: game.trim() } : {}),
        ...(parsed.tags.length ? { tags: parsed.tags } : {}),
        visibility,
      });
      onPosted(post);
    } catch (err) {
      if (err instanceof ApiError) {
        setError(err.code === 'clip_not_ready' ? 'This clip is still rendering. Try again when it is ready.' : err.message);
        if (err.field) {
          setFields({ [err.field]: err.message });
          document.getElementById(`${pid}-${err.field}`)?.focus();
        }
      } else setError('Something went wrong. Please try again.');
      setBusy(false);
    }
  };

  return (
    <form class="post-composer" ref={root} onSubmit={submit} noValidate aria-label="Post this clip" data-testid="post-composer">
      <ErrorBox message={error} />
      <div class={`field${fields.title ? ' field-invalid' : ''}`}>
        <label for={`${pid}-title`}>Title</label>
        <input
          id={`${pid}-title`}
          name="title"
          value={title}
          maxLength={POST_TITLE_MAX}
          required
          onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={fields.title ? 'true' : undefined}
        />
      </div>
      <div class={`field${fields.description ? ' field-invalid' : ''}`}>
        <label for={`${pid}-description`}>
          Description <span class="optional muted">(optional)</span>
        </label>
        <textarea
          id={`${pid}-description`}
          name="description"
          rows={2}
          value={description}
          maxLength={POST_DESCRIPTION_MAX}
          placeholder="What happened? Mention players with @name."
          onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </div>
      <div class={`field${fields.game ? ' field-invalid' : ''}`}>
        <label for={`${pid}-game`}>
          Game <span class="optional muted">(optional)</span>
        </label>
        <input
          id={`${pid}-game`}
          name="game"
          value={game}
          maxLength={POST_GAME_MAX}
          onInput={(e) => {
            gameTouched.current = true;
            setGame((e.currentTarget as HTMLInputElement).value);
          }}
        />
      </div>
      <TagsField id={`${pid}-tags`} value={tags} onValue={setTags} error={fields.tags} />
      <VisibilityField name={`${pid}-visibility`} value={visibility} onValue={setVisibility} />
      <div class="btn-row">
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy} data-testid="post-submit">
          {busy ? 'Posting…' : 'Post'}
        </button>
        <button type="button" class="btn btn-ghost btn-sm" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
