/*
 * The minimal sign-in page of the browser profile: plain HTML, one script and one stylesheet
 * served as separate files (the CSP is `default-src 'self'`: no inline script or style). The page
 * never sees a session token: the session lives in the HttpOnly cookie. Its script is an ES
 * module on top of the browser client (client/, served at /signin/auth-client.js) in session
 * mode: the client holds the CSRF token from GET /auth/browser/session, sends it as X-CSRF-Token,
 * and tells the page's other tabs when the browser signs out.
 *
 * The same page has the recovery views: "forgot password" (#forgot), and the two views a mailed
 * link opens, /signin/reset?token=… (choose a new password) and /signin/verify?token=… (verify
 * the address, at once). Those take the token out of the address bar before anything else.
 */

export const SIGN_IN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title>
<link rel="stylesheet" href="/signin/app.css">
<script type="module" src="/signin/app.js"></script>
</head>
<body>
<main>
  <h1>Account</h1>
  <p id="status" role="status">Loading…</p>
  <section id="signed-out" hidden>
    <form id="signin-form" autocomplete="on">
      <label>Email <input id="email" name="email" type="email" autocomplete="username" required maxlength="254"></label>
      <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
      <button id="signin" type="submit">Sign in</button>
    </form>
    <p><a id="forgot-link" href="/signin#forgot">Forgot your password?</a></p>
    <p id="resend-box" hidden><button id="resend-verification" type="button">Send the verification link again</button></p>
  </section>
  <section id="forgot" hidden>
    <h2>Forgot your password?</h2>
    <form id="forgot-form" autocomplete="on">
      <label>Email <input id="forgot-email" name="email" type="email" autocomplete="username" required maxlength="254"></label>
      <button id="forgot-send" type="submit">Send me a reset link</button>
    </form>
    <p><a class="back" href="/signin">Back to sign in</a></p>
  </section>
  <section id="reset" hidden>
    <h2>Choose a new password</h2>
    <form id="reset-form" autocomplete="off">
      <label>New password <input id="new-password" name="new-password" type="password" autocomplete="new-password" required maxlength="1024"></label>
      <button id="reset-submit" type="submit">Set the new password</button>
    </form>
    <p><a class="back" href="/signin#forgot">Ask for a new link</a></p>
  </section>
  <section id="verify" hidden>
    <h2>Email verification</h2>
    <p><a class="back" href="/signin">Continue to sign in</a></p>
  </section>
  <section id="signed-in" hidden>
    <p>Signed in as user <code id="whoami"></code> (session <code id="current-sid"></code>).</p>
    <h2>Your sessions</h2>
    <ul id="sessions"></ul>
    <p>
      <button id="signout" type="button">Sign out</button>
      <button id="signout-all" type="button">Sign out everywhere</button>
    </p>
  </section>
  <p id="notice" role="status"></p>
  <p id="error" role="alert"></p>
</main>
</body>
</html>
`;

export const SIGN_IN_CSS = `body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; padding: 0 1rem; }
label { display: block; margin: .5rem 0; }
input { display: block; width: 100%; padding: .4rem; box-sizing: border-box; }
button { margin: .5rem .5rem .5rem 0; padding: .4rem .8rem; }
li { margin: .4rem 0; }
#error { color: #b00020; }
#notice { color: #1b5e20; }
`;

export const SIGN_IN_JS = `import { createAuthClient } from '/signin/auth-client.js';

(function () {
  var client = createAuthClient({ mode: 'session' });
  var resetToken = '';
  function $(id) { return document.getElementById(id); }

  async function api(method, path, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    var res = await client.fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    var data = null;
    if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
    return { status: res.status, data: data };
  }

  function showError(r) {
    $('error').textContent = r && r.data && r.data.code ? r.data.code + ': ' + (r.data.title || '') : '';
  }
  /** A refusal thrown by the client (AuthClientError: code and problem), or a network failure. */
  function showFailure(e) {
    showError({ data: e && e.code ? { code: e.code, title: e.problem ? e.problem.title : e.message } : { code: 'NETWORK_ERROR', title: String(e) } });
  }
  function showSignedOut() {
    show('signed-out');
    $('status').textContent = 'Signed out';
  }

  function renderSessions(list) {
    var ul = $('sessions');
    ul.replaceChildren();
    list.forEach(function (s) {
      var li = document.createElement('li');
      li.dataset.sid = s.id;
      li.textContent = s.deviceLabel + ' — ' + s.kind + ', created ' + s.createdAt + ', last used ' + s.lastUsedAt + (s.current ? ' (this browser)' : '') + ' ';
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'revoke';
      b.textContent = s.current ? 'Sign out' : 'Revoke';
      b.addEventListener('click', async function () {
        var r = await api('DELETE', '/auth/sessions/' + encodeURIComponent(s.id));
        showError(r.status === 204 ? null : r);
        await refresh();
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  async function refresh() {
    var s = await client.restore();
    if (!s) return showSignedOut();
    $('whoami').textContent = s.sub;
    $('current-sid').textContent = s.sid;
    show('signed-in');
    $('status').textContent = 'Signed in';
    var list = await api('GET', '/auth/sessions');
    if (list.status === 200) renderSessions(list.data.sessions);
    else showError(list);
  }

  async function signOut(everywhere) {
    try {
      await (everywhere ? client.logoutEverywhere() : client.logout());
      showError(null);
    } catch (e) {
      showFailure(e);
    }
    await refresh();
  }

  var VIEWS = ['signed-out', 'signed-in', 'forgot', 'reset', 'verify'];
  function show(view) {
    VIEWS.forEach(function (v) { $(v).hidden = v !== view; });
  }
  function notice(text) { $('notice').textContent = text; }

  /** The token of a mailed link, taken out of the address bar (history, screenshots, shoulder surfing). */
  function takeToken() {
    var token = new URLSearchParams(location.search).get('token');
    history.replaceState(null, '', location.pathname);
    return token || '';
  }

  function showForgot() {
    show('forgot');
    $('status').textContent = 'Password reset';
    if ($('email').value) $('forgot-email').value = $('email').value;
  }

  async function verifyEmail(token) {
    show('verify');
    $('status').textContent = 'Verifying your email address…';
    var r = await api('POST', '/auth/email/verify', { token: token });
    $('status').textContent = 'Email verification';
    if (r.status === 204) notice('Your email address is verified.');
    showError(r.status === 204 ? null : r);
  }

  // Signed out in another tab of this browser (or the session ended): follow, if showing the account.
  client.onSignedOut(function () {
    if (!$('signed-in').hidden) showSignedOut();
  });
  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var failure = null;
      try {
        await client.login($('email').value, $('password').value);
      } catch (e) {
        failure = e;
      }
      $('password').value = '';
      notice('');
      if (failure) showFailure(failure);
      else showError(null);
      $('resend-box').hidden = !(failure && failure.code === 'EMAIL_NOT_VERIFIED');
      await refresh();
    });
    $('resend-verification').addEventListener('click', async function () {
      var r = await api('POST', '/auth/email/verify/resend', { email: $('email').value });
      showError(r.status === 202 ? null : r);
      if (r.status === 202) notice('If this address still needs verifying, a new link is on its way.');
    });
    $('forgot-link').addEventListener('click', function (ev) {
      ev.preventDefault();
      history.replaceState(null, '', '/signin#forgot');
      notice('');
      showError(null);
      showForgot();
    });
    $('forgot-form').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var r = await api('POST', '/auth/password/forgot', { email: $('forgot-email').value });
      showError(r.status === 202 ? null : r);
      if (r.status === 202) notice('If an account uses this address, a reset link is on its way. It works for a short while, once.');
    });
    $('reset-form').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var r = await api('POST', '/auth/password/reset', { token: resetToken, newPassword: $('new-password').value });
      showError(r.status === 204 ? null : r);
      if (r.status !== 204) return;
      $('new-password').value = '';
      resetToken = '';
      history.replaceState(null, '', '/signin');
      notice('Your password was changed and every session signed out. Sign in with the new password.');
      await refresh();
    });
    $('signout').addEventListener('click', function () { return signOut(false); });
    $('signout-all').addEventListener('click', function () { return signOut(true); });
    if (location.pathname === '/signin/reset') {
      resetToken = takeToken();
      show('reset');
      $('status').textContent = 'Password reset';
    } else if (location.pathname === '/signin/verify') {
      verifyEmail(takeToken());
    } else if (location.hash === '#forgot') {
      showForgot();
    } else {
      refresh();
    }
  });
})();
`;
