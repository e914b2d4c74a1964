/*
 * The minimal sign-in page of the browser profile: plain HTML, one script and one stylesheet
 * served as separate files (the CSP is `default-src 'self'`: no inline script or style). The page
 * never sees a token: the session lives in the HttpOnly cookie; the page only holds the CSRF
 * token it reads from GET /auth/browser/session and sends as X-CSRF-Token.
 */

export const SIGN_IN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title>
<link rel="stylesheet" href="/signin/app.css">
<script src="/signin/app.js" defer></script>
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
`;

export const SIGN_IN_JS = `'use strict';
(function () {
  var csrfToken = null;
  function $(id) { return document.getElementById(id); }

  async function api(method, path, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (csrfToken && method !== 'GET') headers['x-csrf-token'] = csrfToken;
    var res = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    var data = null;
    if (res.status !== 204) { try { data = await res.json(); } catch (e) { data = null; } }
    return { status: res.status, data: data };
  }

  function showError(r) {
    $('error').textContent = r && r.data && r.data.code ? r.data.code + ': ' + (r.data.title || '') : '';
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
    var s = await api('GET', '/auth/browser/session');
    if (s.status !== 200) {
      csrfToken = null;
      $('signed-in').hidden = true;
      $('signed-out').hidden = false;
      $('status').textContent = 'Signed out';
      return;
    }
    csrfToken = s.data.csrfToken;
    $('whoami').textContent = s.data.sub;
    $('current-sid').textContent = s.data.sid;
    $('signed-out').hidden = true;
    $('signed-in').hidden = false;
    $('status').textContent = 'Signed in';
    var list = await api('GET', '/auth/sessions');
    if (list.status === 200) renderSessions(list.data.sessions);
    else showError(list);
  }

  async function signOut(path) {
    var r = await api('POST', path);
    showError(r.status === 204 ? null : r);
    await refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var r = await api('POST', '/auth/browser/login', { email: $('email').value, password: $('password').value });
      $('password').value = '';
      showError(r.status === 200 ? null : r);
      await refresh();
    });
    $('signout').addEventListener('click', function () { return signOut('/auth/logout'); });
    $('signout-all').addEventListener('click', function () { return signOut('/auth/logout-all'); });
    refresh();
  });
})();
`;
