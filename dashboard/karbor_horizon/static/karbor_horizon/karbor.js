/* Karbor panels: the operation timeline, and refreshing pages that show
 * work still running. No libraries: plain DOM and SVG. */
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var LANES = ['protect', 'verify', 'restore', 'delete'];
  var LANE_HEIGHT = 26;
  var LEFT = 70;
  var RIGHT = 10;
  var AXIS = 22;
  var RUNNING = ['protecting', 'verifying', 'restoring', 'deleting'];

  function colourOf(status) {
    if (RUNNING.indexOf(status) >= 0) { return '#337ab7'; }
    if (status.indexOf('error') === 0) { return '#d9534f'; }
    return '#5cb85c';
  }

  // The API's times are naive UTC ("2026-01-02T03:04:05.678").
  function timeOf(text) {
    if (!text) { return null; }
    return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : text + 'Z');
  }

  function node(name, attrs, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) {
      element.setAttribute(key, attrs[key]);
    });
    if (parent) { parent.appendChild(element); }
    return element;
  }

  function label(parent, x, y, text, anchor) {
    var element = node('text', {x: x, y: y, 'font-size': 11,
                                'text-anchor': anchor || 'start'}, parent);
    element.textContent = text;
    return element;
  }

  function drawTimeline(container) {
    var source = document.getElementById(container.getAttribute('data-source'));
    var operations = JSON.parse(source.textContent);
    container.textContent = '';
    if (!operations.length) {
      container.textContent = 'No operations to show.';
      return;
    }
    var now = new Date();
    var spans = operations.map(function (op) {
      return {op: op, start: timeOf(op.started_at),
              end: timeOf(op.ended_at) || now};
    });
    var first = Math.min.apply(null, spans.map(function (s) { return s.start; }));
    var last = Math.max.apply(null, spans.map(function (s) { return s.end; }));
    var width = Math.max(container.clientWidth, 400);
    var plot = width - LEFT - RIGHT;
    var range = Math.max(last - first, 1000);
    var svg = node('svg', {width: width, height: LANES.length * LANE_HEIGHT + AXIS,
                           'class': 'karbor-timeline-chart',
                           role: 'img', 'aria-label': 'Operations over time'});
    LANES.forEach(function (lane, index) {
      var y = index * LANE_HEIGHT;
      node('rect', {x: LEFT, y: y + 2, width: plot, height: LANE_HEIGHT - 4,
                    fill: index % 2 ? '#f5f5f5' : '#fafafa'}, svg);
      label(svg, LEFT - 6, y + LANE_HEIGHT / 2 + 4, lane, 'end');
    });
    spans.forEach(function (span) {
      var lane = LANES.indexOf(span.op.type);
      if (lane < 0) { return; }
      var x = LEFT + (span.start - first) / range * plot;
      var w = Math.max((span.end - span.start) / range * plot, 6);
      var link = node('a', {href: span.op.url}, svg);
      var bar = node('rect', {
        x: Math.min(x, LEFT + plot - w), y: lane * LANE_HEIGHT + 5,
        width: w, height: LANE_HEIGHT - 10, rx: 2,
        fill: colourOf(span.op.status), 'class': 'karbor-timeline-op',
        'data-type': span.op.type, 'data-status': span.op.status}, link);
      var title = node('title', {}, bar);
      title.textContent = span.op.type + ' ' + span.op.status + ': ' +
        span.op.started_at + ' \u2192 ' + (span.op.ended_at || 'running');
    });
    var axisY = LANES.length * LANE_HEIGHT + 14;
    label(svg, LEFT, axisY, new Date(first).toISOString().replace('.000', ''));
    label(svg, LEFT + plot, axisY,
          new Date(last).toISOString().replace('.000', ''), 'end');
    container.appendChild(svg);
  }

  // Fetch the page again and swap in its .karbor-refresh part, until the
  // page no longer marks anything as running (.karbor-poll). The heading,
  // the breadcrumb and the window title may name the status too ("verify
  // verifying"): they follow.
  var HEADINGS = ['.page-header', '.breadcrumb'];

  function swapHeadings(fresh) {
    HEADINGS.forEach(function (selector) {
      var next = fresh.querySelector(selector);
      var current = document.querySelector(selector);
      if (next && current) {
        current.parentNode.replaceChild(document.importNode(next, true),
                                        current);
      }
    });
    if (fresh.title) { document.title = fresh.title; }
  }

  function schedulePoll(marker) {
    var seconds = parseInt(marker.getAttribute('data-poll-seconds'), 10) || 3;
    window.setTimeout(function () {
      window.fetch(window.location.href, {credentials: 'same-origin'})
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, 'text/html');
          var fresh = page.querySelector('.karbor-refresh');
          var current = document.querySelector('.karbor-refresh');
          if (fresh && current) {
            current.parentNode.replaceChild(document.importNode(fresh, true),
                                            current);
            swapHeadings(page);
            init(document.querySelector('.karbor-refresh'));
          }
        })
        .catch(function () { schedulePoll(marker); });
    }, seconds * 1000);
  }

  function init(root) {
    Array.prototype.forEach.call(root.querySelectorAll('.karbor-timeline'),
                                 drawTimeline);
    var marker = root.querySelector('.karbor-poll');
    if (marker) { schedulePoll(marker); }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var root = document.querySelector('.karbor-refresh');
    if (root) { init(root); }
  });
}());
