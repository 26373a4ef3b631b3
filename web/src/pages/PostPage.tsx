import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  COMMENT_MAX,
  POST_DESCRIPTION_MAX,
  POST_GAME_MAX,
  POST_TITLE_MAX,
  addComment,
  deleteComment,
  deletePost,
  getPost,
  getProfile,
  listComments,
  updatePost,
  type Comment,
  type Post,
  type SessionState,
  type Visibility,
} from '../api';
import { Link, navigate } from '../router';
import { ErrorBox, Spinner, useTitle } from '../components/ui';
import { ConfirmButton, formatTime } from '../components/media';
import { GameChip, GamePlaceholder, Tags, useViewReport } from '../components/PostCard';
import {
  Byline,
  FollowButton,
  LikeButton,
  RelTime,
  RichText,
  SIcon,
  ShareButton,
  UserAvatar,
  compactCount,
  displayName,
  plural,
  profileHref,
  signInHref,
} from '../components/social';
import { TagsField, VisibilityField, parseTags } from '../components/PostComposer';

const COMMENTS_PAGE = 20;

function CommentForm({
  id,
  session,
  placeholder,
  submitLabel,
  currentTime,
  onSubmit,
  onCancel,
  autoFocus = false,
}: {
  id: string;
  session: SessionState;
  placeholder: string;
  submitLabel: string;
  currentTime?: () => number | null;
  onSubmit: (body: string, atS: number | null) => Promise<void>;
  onCancel?: () => void;
  autoFocus?: boolean;
}) {
  const [body, setBody] = useState('');
  const [atNow, setAtNow] = useState(false);
  const [shownTime, setShownTime] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ta = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (autoFocus) ta.current?.focus();
  }, []);
  // Keep the checkbox label's time fresh while the player runs.
  useEffect(() => {
    if (!currentTime) return;
    const tick = () => setShownTime(currentTime());
    tick();
    const t = setInterval(tick, 500);
    return () => clearInterval(t);
  }, []);

  if (session.status !== 'signed-in') {
    return (
      <p class="comment-signin muted">
        <Link href={signInHref()}>Sign in</Link> to join the conversation.
      </p>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const text = body.trim();
    if (busy) return;
    if (!text) {
      setError('Write something first.');
      ta.current?.focus();
      return;
    }
    if (text.length > COMMENT_MAX) {
      setError(`At most ${COMMENT_MAX} characters.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const t = atNow && currentTime ? currentTime() : null;
      await onSubmit(text, t === null ? null : Math.round(t * 10) / 10);
      setBody('');
      setAtNow(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not post the comment.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="comment-form" onSubmit={submit} noValidate>
      <label for={id} class="sr-only">
        {placeholder}
      </label>
      <textarea
        id={id}
        ref={ta}
        rows={2}
        value={body}
        maxLength={COMMENT_MAX}
        placeholder={placeholder}
        aria-invalid={error ? 'true' : undefined}
        onInput={(e) => {
          setBody((e.currentTarget as HTMLTextAreaElement).value);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
        }}
      />
      {error ? (
        <p class="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="comment-form-row">
        {currentTime ? (
          <label class="check">
            <input type="checkbox" checked={atNow} onChange={(e) => setAtNow((e.currentTarget as HTMLInputElement).checked)} id={`${id}-at`} />
            <span>
              At current time <span class="mono">{formatTime(shownTime ?? 0)}</span>
            </span>
          </label>
        ) : (
          <span />
        )}
        <div class="btn-row">
          {onCancel ? (
            <button type="button" class="btn btn-ghost btn-sm" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
          <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
            {busy ? 'Posting…' : submitLabel}
          </button>
        </div>
      </div>
    </form>
  );
}

function CommentItem({
  c,
  post,
  session,
  onSeek,
  onReply,
  onDelete,
  replying,
  children,
}: {
  c: Comment;
  post: Post;
  session: SessionState;
  onSeek: (t: number) => void;
  onReply?: () => void;
  onDelete: () => Promise<void>;
  replying?: boolean;
  children?: ComponentChildren;
}) {
  const me = session.user;
  const canDelete = !!me && (me.id === c.author.id || me.id === post.author.id || me.role === 'moderator' || me.role === 'admin');
  return (
    <li class={`comment${c.reply_to ? ' comment-reply' : ''}`} data-comment={c.id}>
      <Link href={profileHref(c.author.username)} class="comment-avatar" tabIndex={-1} aria-hidden="true">
        <UserAvatar user={c.author} size={c.reply_to ? 28 : 34} />
      </Link>
      <div class="comment-main">
        <div class="comment-head">
          <Link href={profileHref(c.author.username)} class="comment-author">
            {displayName(c.author)}
          </Link>
          {c.author.id === post.author.id ? <span class="op-badge">Creator</span> : null}
          <span class="muted comment-time">
            <RelTime iso={c.created_at} />
          </span>
        </div>
        <p class="comment-body">
          {c.at_s !== null && c.at_s !== undefined ? (
            <button type="button" class="ts-chip" onClick={() => onSeek(c.at_s!)} aria-label={`Play from ${formatTime(c.at_s)}`}>
              <SIcon name="clock" />
              {formatTime(c.at_s)}
            </button>
          ) : null}
          <RichText text={c.body} />
        </p>
        <div class="comment-actions">
          {onReply && session.status === 'signed-in' ? (
            <button type="button" class="link-btn" onClick={onReply} aria-expanded={replying}>
              <SIcon name="reply" /> Reply
            </button>
          ) : null}
          {canDelete ? (
            <ConfirmButton label="Delete" confirmLabel="Delete" question={c.reply_to ? 'Delete this reply?' : 'Delete this comment and its replies?'} onConfirm={onDelete} />
          ) : null}
        </div>
        {children}
      </div>
    </li>
  );
}

function Comments({ post, session, onCount, onSeek, currentTime }: {
  post: Post;
  session: SessionState;
  onCount: (delta: number) => void;
  onSeek: (t: number) => void;
  currentTime: () => number | null;
}) {
  const [items, setItems] = useState<Comment[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    listComments(post.id, COMMENTS_PAGE)
      .then((p) => {
        if (!live) return;
        setItems(p.items);
        setCursor(p.next_cursor);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [post.id, session.user?.id]);

  const more = async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    try {
      const p = await listComments(post.id, COMMENTS_PAGE, cursor);
      setItems((cur) => {
        const seen = new Set((cur ?? []).map((c) => c.id));
        return [...(cur ?? []), ...p.items.filter((c) => !seen.has(c.id))];
      });
      setCursor(p.next_cursor);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoadingMore(false);
    }
  };

  const add = async (body: string, atS: number | null) => {
    const c = await addComment(post.id, body, atS !== null ? { at_s: atS } : {});
    setItems((cur) => [{ ...c, replies: c.replies ?? [] }, ...(cur ?? [])]);
    onCount(1);
  };
  const reply = async (parent: Comment, body: string, atS: number | null) => {
    const c = await addComment(post.id, body, { reply_to: parent.id, ...(atS !== null ? { at_s: atS } : {}) });
    // Replies attach to their top-level comment (one level).
    const top = c.reply_to ?? parent.id;
    setItems((cur) =>
      (cur ?? []).map((x) => (x.id === top || x.id === parent.id ? { ...x, replies: [...(x.replies ?? []), c], reply_count: (x.reply_count ?? 0) + 1 } : x)),
    );
    setReplyTo(null);
    onCount(1);
  };
  const remove = async (c: Comment, parent?: Comment) => {
    try {
      await deleteComment(c.id);
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    if (parent) {
      setItems((cur) =>
        (cur ?? []).map((x) =>
          x.id === parent.id ? { ...x, replies: (x.replies ?? []).filter((r) => r.id !== c.id), reply_count: Math.max(0, (x.reply_count ?? 1) - 1) } : x,
        ),
      );
      onCount(-1);
    } else {
      setItems((cur) => (cur ?? []).filter((x) => x.id !== c.id));
      onCount(-(1 + (c.reply_count ?? c.replies?.length ?? 0)));
    }
  };

  return (
    <section class="comments" id="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">
        Comments <span class="muted comments-count">{compactCount(post.comment_count)}</span>
      </h2>
      <CommentForm id="new-comment" session={session} placeholder="Add a comment…" submitLabel="Comment" currentTime={currentTime} onSubmit={add} />
      <ErrorBox message={error} />
      {items === null ? (
        error ? null : <Spinner label="Loading comments…" />
      ) : items.length === 0 ? (
        <p class="muted comments-empty">No comments yet. Say something nice.</p>
      ) : (
        <ol class="comment-list">
          {items.map((c) => (
            <CommentItem
              key={c.id}
              c={c}
              post={post}
              session={session}
              onSeek={onSeek}
              replying={replyTo === c.id}
              onReply={() => setReplyTo(replyTo === c.id ? null : c.id)}
              onDelete={() => remove(c)}
            >
              {(c.replies ?? []).length ? (
                <ol class="reply-list" aria-label={`Replies to ${displayName(c.author)}`}>
                  {(c.replies ?? []).map((r) => (
                    <CommentItem key={r.id} c={r} post={post} session={session} onSeek={onSeek} onDelete={() => remove(r, c)} />
                  ))}
                </ol>
              ) : null}
              {(c.reply_count ?? 0) > (c.replies ?? []).length ? (
                <p class="muted more-replies">{plural((c.reply_count ?? 0) - (c.replies ?? []).length, 'older reply', 'older replies')} not shown</p>
              ) : null}
              {replyTo === c.id ? (
                <CommentForm
                  id={`reply-${c.id}`}
                  session={session}
                  placeholder={`Reply to ${displayName(c.author)}…`}
                  submitLabel="Reply"
                  currentTime={currentTime}
                  autoFocus
                  onSubmit={(body, at) => reply(c, body, at)}
                  onCancel={() => setReplyTo(null)}
                />
              ) : null}
            </CommentItem>
          ))}
        </ol>
      )}
      {cursor ? (
        <div class="load-more">
          <button type="button" class="btn btn-ghost btn-sm" onClick={more} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more comments'}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function EditPost({ post, onSaved, onCancel }: { post: Post; onSaved: (p: Post) => void; onCancel: () => void }) {
  const [title, setTitle] = useState(post.title);
  const [description, setDescription] = useState(post.description ?? '');
  const [game, setGame] = useState(post.game ?? '');
  const [tags, setTags] = useState(post.tags.join(', '));
  const [visibility, setVisibility] = useState<Visibility>(post.visibility);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const t = title.trim();
    const parsed = parseTags(tags);
    const errs: Record<string, string> = {};
    if (!t) errs.title = 'Give it a title.';
    if (parsed.error) errs.tags = parsed.error;
    if (Object.keys(errs).length) {
      setFields(errs);
      setError(Object.values(errs)[0]);
      return;
    }
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const p = await updatePost(post.id, {
        title: t,
        description: description.trim() || null,
        game: game.trim() || null,
        tags: parsed.tags,
        visibility,
      });
      onSaved(p);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not save.');
      if (err instanceof ApiError && err.field) setFields({ [err.field]: err.message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card edit-post" onSubmit={submit} noValidate aria-labelledby="edit-post-h">
      <h2 id="edit-post-h">Edit post</h2>
      <ErrorBox message={error} />
      <div class={`field${fields.title ? ' field-invalid' : ''}`}>
        <label for="edit-title">Title</label>
        <input id="edit-title" value={title} maxLength={POST_TITLE_MAX} onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)} aria-invalid={fields.title ? 'true' : undefined} />
      </div>
      <div class={`field${fields.description ? ' field-invalid' : ''}`}>
        <label for="edit-description">
          Description <span class="optional muted">(optional)</span>
        </label>
        <textarea id="edit-description" rows={3} value={description} maxLength={POST_DESCRIPTION_MAX} onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      <div class="form-grid">
        <div class={`field${fields.game ? ' field-invalid' : ''}`}>
          <label for="edit-game">
            Game <span class="optional muted">(optional)</span>
          </label>
          <input id="edit-game" value={game} maxLength={POST_GAME_MAX} onInput={(e) => setGame((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <TagsField id="edit-tags" value={tags} onValue={setTags} error={fields.tags} />
      </div>
      <VisibilityField name="edit-visibility" value={visibility} onValue={setVisibility} />
      <div class="btn-row">
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" class="btn btn-ghost btn-sm" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Player({ post, player }: { post: Post; player: { current: HTMLVideoElement | null } }) {
  const [failed, setFailed] = useState(false);
  useViewReport(post.id, player);
  const clip = post.clip;
  const w = clip?.width || 16;
  const h = clip?.height || 9;
  const tall = h > w;
  if (!clip || !clip.playback_url) {
    return (
      <div class="post-player post-player-empty">
        <GamePlaceholder game={post.game} />
      </div>
    );
  }
  return (
    <div class={`post-player${tall ? ' post-player-tall' : ''}`}>
      <video
        ref={player}
        id="post-video"
        class="post-video"
        style={{ aspectRatio: `${w} / ${h}` }}
        src={clip.playback_url}
        poster={clip.thumbnail_url ?? undefined}
        controls
        playsInline
        preload="metadata"
        onError={() => setFailed(true)}
      />
      {failed ? <ErrorBox message="The video could not be played. Reload the page to get a fresh link." /> : null}
    </div>
  );
}

export function PostPage({ id, session }: { id: string; session: SessionState }) {
  const [post, setPost] = useState<Post | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [following, setFollowing] = useState<boolean | null>(null);
  const player = useRef<HTMLVideoElement>(null);
  useTitle(post ? post.title : missing ? 'Post not found' : 'Post');

  useEffect(() => {
    if (session.status === 'loading') return;
    let live = true;
    getPost(id)
      .then((p) => live && setPost(p))
      .catch((err) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404 && err.code !== 'route_not_found') setMissing(true);
        else setError(err instanceof Error ? err.message : 'Could not load this post.');
      });
    return () => {
      live = false;
    };
  }, [id, session.status, session.user?.id]);

  // Whether I follow the author (the post does not say; the profile does).
  useEffect(() => {
    if (!post || session.status !== 'signed-in' || session.user?.id === post.author.id) return;
    let live = true;
    getProfile(post.author.username)
      .then((p) => live && setFollowing(p.followed_by_me))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [post?.author.username, session.status]);

  if (missing) {
    return (
      <section class="container narrow center-page">
        <div class="card empty-card">
          <p class="big-code gradient-text" aria-hidden="true">
            ?
          </p>
          <h1>Post not found</h1>
          <p class="muted">It may have been deleted, or it is only visible to some players.</p>
          <Link href="/" class="btn btn-primary">
            Back to the feed
          </Link>
        </div>
      </section>
    );
  }
  if (error) {
    return (
      <section class="container narrow page">
        <ErrorBox message={error} />
      </section>
    );
  }
  if (!post) {
    return (
      <section class="container">
        <Spinner label="Loading post…" />
      </section>
    );
  }

  const me = session.user;
  const mine = me?.id === post.author.id;
  const canDelete = mine || me?.role === 'moderator' || me?.role === 'admin';
  const seek = (t: number) => {
    const v = player.current;
    if (!v) return;
    v.currentTime = t;
    v.play().catch(() => undefined);
    v.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  };
  const currentTime = () => (player.current ? player.current.currentTime : null);

  return (
    <section class="container page post-page" data-post={post.id}>
      <div class="post-layout">
        <div class="post-main">
          <Player post={post} player={player} />
          <div class="post-info">
            <h1 class="post-title">{post.title}</h1>
            <div class="post-meta muted">
              <span>{plural(post.view_count, 'view')}</span>
              <span aria-hidden="true">·</span>
              <RelTime iso={post.created_at} />
              {post.visibility !== 'public' ? <span class="vis-badge">{post.visibility === 'followers' ? 'Followers only' : 'Private'}</span> : null}
              {post.game ? <GameChip game={post.game} /> : null}
            </div>
            <div class="post-author-row">
              <Byline user={post.author} />
              {!mine && following !== null ? (
                <FollowButton username={post.author.username} following={following} session={session} onChange={setFollowing} />
              ) : !mine && session.status !== 'signed-in' ? (
                <FollowButton username={post.author.username} following={false} session={session} onChange={() => undefined} />
              ) : null}
              <div class="post-actions">
                <LikeButton post={post} session={session} onChange={setPost} />
                <a href="#comments" class="action comment-link" aria-label={`Comments (${plural(post.comment_count, 'comment')})`}>
                  <SIcon name="comment" />
                  <span aria-hidden="true">{compactCount(post.comment_count)}</span>
                </a>
                <ShareButton post={post} session={session} onChange={setPost} />
              </div>
            </div>
            {post.description ? (
              <p class="post-description">
                <RichText text={post.description} />
              </p>
            ) : null}
            <Tags tags={post.tags} />
            {mine || canDelete ? (
              <div class="btn-row owner-tools">
                {mine && !editing ? (
                  <button type="button" class="btn btn-ghost btn-sm" onClick={() => setEditing(true)} id="edit-post">
                    Edit post
                  </button>
                ) : null}
                {canDelete ? (
                  <ConfirmButton
                    id="delete-post"
                    label="Delete post"
                    confirmLabel="Delete post"
                    question="Delete this post for everyone?"
                    onConfirm={async () => {
                      try {
                        await deletePost(post.id);
                        navigate(profileHref(post.author.username), { replace: true });
                      } catch (err) {
                        setError((err as Error).message);
                      }
                    }}
                  />
                ) : null}
              </div>
            ) : null}
            {editing ? (
              <EditPost
                post={post}
                onCancel={() => setEditing(false)}
                onSaved={(p) => {
                  setPost({ ...p, liked_by_me: p.liked_by_me ?? post.liked_by_me });
                  setEditing(false);
                }}
              />
            ) : null}
          </div>
        </div>
        <Comments
          post={post}
          session={session}
          onSeek={seek}
          currentTime={currentTime}
          onCount={(d) => setPost((p) => (p ? { ...p, comment_count: Math.max(0, p.comment_count + d) } : p))}
        />
      </div>
    </section>
  );
}
