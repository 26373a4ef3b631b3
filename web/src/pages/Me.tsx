import { useEffect, useState } from 'preact/hooks';
import { BIO_MAX, DISPLAY_NAME_MAX, fetchMe, updateMe, type SessionState, type User } from '../api';
import { Link, navigate } from '../router';
import { Avatar, ErrorBox, Notice, RoleBadge, Spinner, formatDate, useTitle } from '../components/ui';
import { useFormErrors } from '../components/form';

function EditProfile({ user }: { user: User }) {
  const [displayName, setDisplayName] = useState(user.display_name ?? '');
  const [bio, setBio] = useState(user.bio ?? '');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const errors = useFormErrors();

  const dirty = displayName !== (user.display_name ?? '') || bio !== (user.bio ?? '');

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    errors.clear();
    setSaved(null);
    const errs: Record<string, string | undefined> = {};
    if (displayName.length > DISPLAY_NAME_MAX) errs.display_name = `At most ${DISPLAY_NAME_MAX} characters.`;
    if (bio.length > BIO_MAX) errs.bio = `At most ${BIO_MAX} characters.`;
    if (errors.fromValidation(errs)) return;
    setBusy(true);
    try {
      const updated = await updateMe({ display_name: displayName, bio });
      setDisplayName(updated.display_name ?? '');
      setBio(updated.bio ?? '');
      setSaved('Profile saved.');
    } catch (err) {
      errors.fromError(err, ['display_name', 'bio']);
    } finally {
      setBusy(false);
    }
  };

  const dnErr = errors.fields.display_name;
  const bioErr = errors.fields.bio;
  return (
    <form class="card edit-card" method="post" action="/me" noValidate onSubmit={onSubmit} aria-labelledby="edit-title">
      <h2 id="edit-title">Edit profile</h2>
      <ErrorBox message={errors.message} />
      <div class={dnErr ? 'field field-invalid' : 'field'}>
        <label for="display_name">Display name</label>
        <input
          id="display_name"
          name="display_name"
          value={displayName}
          onInput={(e) => {
            setDisplayName((e.currentTarget as HTMLInputElement).value);
            errors.clearField('display_name');
            setSaved(null);
          }}
          autocomplete="nickname"
          maxLength={DISPLAY_NAME_MAX}
          placeholder={user.username}
          aria-invalid={dnErr ? 'true' : undefined}
          aria-describedby="display_name-help"
        />
        <p class={dnErr ? 'field-error' : 'field-hint'} id="display_name-help">
          {dnErr ?? `Shown instead of your username. ${displayName.length}/${DISPLAY_NAME_MAX}`}
        </p>
      </div>
      <div class={bioErr ? 'field field-invalid' : 'field'}>
        <label for="bio">Bio</label>
        <textarea
          id="bio"
          name="bio"
          rows={4}
          value={bio}
          onInput={(e) => {
            setBio((e.currentTarget as HTMLTextAreaElement).value);
            errors.clearField('bio');
            setSaved(null);
          }}
          autocomplete="off"
          maxLength={BIO_MAX}
          placeholder="Main games, rank, favourite role…"
          aria-invalid={bioErr ? 'true' : undefined}
          aria-describedby="bio-help"
        />
        <p class={bioErr ? 'field-error' : 'field-hint'} id="bio-help">
          {bioErr ?? `${bio.length}/${BIO_MAX}`}
        </p>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy || !dirty}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <Notice message={saved} />
      </div>
    </form>
  );
}

export function Me({ session }: { session: SessionState }) {
  useTitle('My profile');
  const [user, setUser] = useState<User | null>(session.user);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    if (session.status === 'signed-out') {
      navigate('/login?next=/me', { replace: true });
    }
  }, [session.status]);

  // Load the freshest copy of the profile once signed in.
  useEffect(() => {
    if (session.status !== 'signed-in') return;
    let live = true;
    fetchMe()
      .then((u) => live && setUser(u))
      .catch((err: Error) => live && setLoadError(err.message));
    return () => {
      live = false;
    };
  }, [session.status]);

  useEffect(() => {
    if (session.user) setUser(session.user);
  }, [session.user]);

  if (session.status !== 'signed-in' || !user) {
    return (
      <section class="container narrow">
        <Spinner label="Loading your profile…" />
      </section>
    );
  }

  return (
    <section class="container profile-page">
      <ErrorBox message={loadError} />
      <div class="card profile-card">
        <div class="profile-banner" aria-hidden="true" />
        <div class="profile-head">
          <Avatar user={user} />
          <div class="profile-names">
            <h1 class="profile-display">{user.display_name || user.username}</h1>
            <p class="profile-handle">
              <span class="handle">
                @<span id="profile-username">{user.username}</span>
              </span>
              <RoleBadge role={user.role} />
            </p>
          </div>
          <Link href={`/u/${encodeURIComponent(user.username)}`} class="btn btn-ghost btn-sm profile-public">
            View public profile
          </Link>
        </div>
        {user.bio ? <p class="profile-bio">{user.bio}</p> : <p class="profile-bio muted">No bio yet.</p>}
        <dl class="facts">
          <div>
            <dt>Username</dt>
            <dd>{user.username}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd id="profile-email">{user.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd id="profile-role">{user.role}</dd>
          </div>
          <div>
            <dt>Member since</dt>
            <dd>
              <time dateTime={user.created_at}>{formatDate(user.created_at)}</time>
            </dd>
          </div>
        </dl>
      </div>
      <EditProfile key={user.id} user={user} />
    </section>
  );
}
