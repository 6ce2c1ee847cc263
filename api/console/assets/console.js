// The console's only script: sends the forms to the API as JSON (with the session's CSRF token and
// an Idempotency-Key), shows the API's validation messages beside their fields, and keeps a page
// current by polling its API resource. Everything it shows comes from the server.
(function () {
  'use strict';

  var POLL_MS = 3000;
  var CASE_NUMBER = /^[A-Z]{2,4}-\d{4}-\d{6}$/;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function setPath(target, name, value) {
    var parts = name.split('.');
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      if (typeof node[parts[i]] !== 'object' || node[parts[i]] === null) node[parts[i]] = {};
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  function fieldValue(element) {
    var kind = element.getAttribute('data-kind');
    var nullable = element.getAttribute('data-nullable') === 'true';
    if (kind === 'checkbox') return { value: element.checked };
    if (kind === 'select' && element.multiple) {
      return { value: Array.prototype.filter.call(element.options, function (o) { return o.selected; }).map(function (o) { return o.value; }) };
    }
    var raw = element.value;
    if (raw.trim() === '') return nullable ? { value: null } : { skip: true };
    switch (kind) {
      case 'integer': return { value: Number.isInteger(Number(raw)) ? Number(raw) : raw };
      case 'number': return { value: Number(raw) };
      case 'datetime': return { value: (raw.length === 16 ? raw + ':00' : raw) + '+08:00' };
      case 'list': return { value: raw.split('\n').map(function (line) { return line.trim(); }).filter(Boolean) };
      case 'json':
        try { return { value: JSON.parse(raw) }; } catch (e) { return { error: 'JSON: ' + e.message }; }
      default: return { value: raw };
    }
  }

  function collect(form) {
    var body = {};
    var pathValues = {};
    var problems = [];
    Array.prototype.forEach.call(form.querySelectorAll('[name]'), function (element) {
      var name = element.getAttribute('name');
      if (element.type === 'file') return;
      var result = fieldValue(element);
      if (result.error) { problems.push({ in: 'body', field: name, message: result.error }); return; }
      if (result.skip) return;
      if (name.indexOf('_path.') === 0) pathValues[name.slice(6)] = String(result.value);
      else if (name === '_body') body = result.value;
      else setPath(body, name, result.value);
    });
    return { body: body, pathValues: pathValues, problems: problems };
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (p) { p.hidden = true; p.textContent = ''; });
    Array.prototype.forEach.call(form.querySelectorAll('.invalid'), function (el) { el.classList.remove('invalid'); });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (el) { el.removeAttribute('aria-invalid'); });
    var summary = form.querySelector('.form-summary');
    summary.hidden = true;
    summary.textContent = '';
  }

  function containerFor(form, problem) {
    var name = problem.in === 'path' ? '_path.' + problem.field : problem.field;
    var parts = name.split('.');
    while (parts.length > 0) {
      var candidate = form.querySelector('[data-field="' + CSS.escape(parts.join('.')) + '"]');
      if (candidate) return candidate;
      parts.pop();
    }
    return null;
  }

  function showErrors(form, message, problems) {
    var summary = form.querySelector('.form-summary');
    var main = document.getElementById('main');
    summary.textContent = '';
    var heading = document.createElement('p');
    heading.textContent = problems.length > 0 ? main.getAttribute('data-fix-text') : message;
    summary.appendChild(heading);
    var firstInvalid = null;
    problems.forEach(function (problem) {
      var container = containerFor(form, problem);
      var error = container && container.querySelector('.field-error');
      if (error) {
        error.textContent = (error.textContent ? error.textContent + ' ' : '') + problem.message;
        error.hidden = false;
        container.classList.add('invalid');
        var input = container.querySelector('input, select, textarea');
        if (input) { input.setAttribute('aria-invalid', 'true'); firstInvalid = firstInvalid || input; }
      } else {
        var line = document.createElement('p');
        line.textContent = problem.field + ': ' + problem.message;
        summary.appendChild(line);
      }
    });
    summary.hidden = false;
    (firstInvalid || summary).focus && (firstInvalid || summary).focus();
  }

  function caseNumberIn(answer) {
    if (!answer || typeof answer !== 'object') return null;
    var keys = ['caseNumber', 'loanNumber', 'claimNumber', 'number'];
    for (var i = 0; i < keys.length; i++) if (typeof answer[keys[i]] === 'string' && CASE_NUMBER.test(answer[keys[i]])) return answer[keys[i]];
    return null;
  }

  function submit(event) {
    event.preventDefault();
    var form = event.currentTarget;
    if (form.getAttribute('aria-busy') === 'true') return;
    clearErrors(form);
    var collected = collect(form);
    if (collected.problems.length > 0) return showErrors(form, '', collected.problems);
    var path = form.getAttribute('data-path').replace(/:([A-Za-z0-9_]+)/g, function (whole, name) {
      return collected.pathValues[name] !== undefined ? encodeURIComponent(collected.pathValues[name]) : whole;
    });
    var method = form.getAttribute('data-method');
    var headers = { 'X-CSRF-Token': csrfToken(), Accept: 'application/json' };
    // One key per attempt of this form: a retry after a lost answer is not done twice.
    if (form.getAttribute('data-idempotent') === 'true') headers['Idempotency-Key'] = form.dataset.pendingKey || (form.dataset.pendingKey = newKey());
    var payload;
    var fileField = form.getAttribute('data-multipart');
    if (fileField) {
      payload = new FormData();
      var fileInput = form.querySelector('input[type=file]');
      Array.prototype.forEach.call(fileInput.files, function (file) { payload.append(fileField, file, file.name); });
      Object.keys(collected.body).forEach(function (key) { payload.append(key, String(collected.body[key])); });
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(collected.body);
    }
    form.setAttribute('aria-busy', 'true');
    fetch(path, { method: method, headers: headers, body: payload, credentials: 'same-origin' })
      .then(function (response) {
        return response.text().then(function (text) {
          var answer = null;
          try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = null; }
          delete form.dataset.pendingKey;
          if (response.ok) {
            form.dataset.dirty = '';
            var done = form.querySelector('.form-done');
            if (done) done.hidden = false;
            var shown = form.querySelector('.form-answer');
            if (form.getAttribute('data-after') === 'show' && shown) {
              shown.textContent = JSON.stringify(answer, null, 2);
              shown.hidden = false;
              return;
            }
            var caseNumber = form.getAttribute('data-after') === 'case' ? caseNumberIn(answer) : null;
            if (caseNumber) window.location.assign('/console/cases/' + encodeURIComponent(caseNumber));
            else if (form.getAttribute('data-after') === 'case') window.location.assign('/console' + path);
            else window.location.reload();
            return;
          }
          var error = answer && answer.error ? answer.error : { message: response.status + ' ' + response.statusText, details: null };
          var problems = Array.isArray(error.details) ? error.details.filter(function (d) { return d && typeof d.field === 'string'; }) : [];
          showErrors(form, error.message, problems);
        });
      })
      .catch(function (error) {
        // The key is kept: sending again repeats the same request, which the API answers once.
        showErrors(form, String(error && error.message ? error.message : error), []);
      })
      .finally(function () { form.removeAttribute('aria-busy'); });
  }

  function bind(root) {
    Array.prototype.forEach.call(root.querySelectorAll('form.api-form'), function (form) {
      form.addEventListener('submit', submit);
      form.addEventListener('input', function () { form.dataset.dirty = 'true'; });
    });
  }

  function announce(text, withReload) {
    var notice = document.querySelector('.live-notice');
    notice.textContent = text + ' ';
    if (withReload) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = document.getElementById('main').getAttribute('data-reload-text');
      button.addEventListener('click', function () { window.location.reload(); });
      notice.appendChild(button);
    }
    notice.hidden = false;
  }

  function startLive(main) {
    var source = main.getAttribute('data-live-src');
    if (!source) return;
    var last = null;
    var busy = false;
    function poll() {
      if (busy) return;
      busy = true;
      fetch(source, { headers: { Accept: 'application/json', 'X-Console-Poll': '1' }, credentials: 'same-origin' })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (text === null) return;
          if (last === null) { last = text; return; }
          if (text === last) return;
          last = text;
          var editing = Array.prototype.some.call(main.querySelectorAll('form.api-form'), function (form) { return form.dataset.dirty === 'true'; });
          if (editing) return announce(main.getAttribute('data-editing-text'), true);
          return fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
            .then(function (response) { return response.text(); })
            .then(function (html) {
              var next = new DOMParser().parseFromString(html, 'text/html').getElementById('main');
              if (!next) return;
              var open = Array.prototype.map.call(main.querySelectorAll('details[open]'), function (d) { return d.id; }).filter(Boolean);
              main.innerHTML = next.innerHTML;
              open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
              bind(main);
              announce(main.getAttribute('data-updated-text'), false);
            });
        })
        .catch(function () { /* the next poll tries again */ })
        .finally(function () { busy = false; });
    }
    poll();
    setInterval(poll, POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', function () {
    var main = document.getElementById('main');
    bind(document);
    if (main) startLive(main);
  });
})();
