/* kith presence pages: the map, this device's location, the live alerts inbox, time zone.
 *
 * Runs every time a page that includes it is shown, also after htmx swaps in a boosted
 * page, so each part starts from the elements it finds and nothing is kept between
 * pages except the one alert stream, which is closed before a new one opens.
 * Names and labels reach the DOM only through textContent, never as HTML.
 */
(function () {
  "use strict";

  // --- map -----------------------------------------------------------------------

  function tooltip(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function initMap() {
    const el = document.querySelector("[data-map]");
    const source = document.getElementById("map-data");
    if (!el || !source || !window.L) return;
    const data = JSON.parse(source.textContent);
    const map = L.map(el, { worldCopyJump: true });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 18, attribution: data.attribution }).addTo(map);
    } else {
      el.classList.add("no-tiles"); // a plain background: the cells still say everything
    }
    const cells = L.featureGroup().addTo(map);
    data.friends.forEach(function (f) {
      const words = f.name + " (" + (f.label || f.precision) + ")";
      L.polygon(f.outline, { className: "cell cell-friend" })
        .bindTooltip(tooltip(words), { direction: "top" })
        .addTo(cells);
    });
    if (data.me) {
      L.polygon(data.me.outline, { className: "cell cell-me" })
        .bindTooltip(tooltip("You"), { direction: "top" })
        .addTo(cells);
    }
    if (cells.getLayers().length) {
      map.fitBounds(cells.getBounds(), { padding: [24, 24], maxZoom: 14 });
    } else {
      map.setView([25, 0], 2);
    }

    // A click fills in "I'm at ..."; saving stays a deliberate press of "I'm here".
    const lat = document.getElementById("at-lat");
    const lon = document.getElementById("at-lon");
    let picked = null;
    map.on("click", function (ev) {
      const point = ev.latlng.wrap();
      if (lat && lon) {
        lat.value = point.lat.toFixed(5);
        lon.value = point.lng.toFixed(5);
      }
      if (picked) picked.setLatLng(ev.latlng);
      else picked = L.circleMarker(ev.latlng, { radius: 7, className: "picked" }).addTo(map);
    });
  }

  // --- this device's location ----------------------------------------------------

  const GEO_ERRORS = {
    1: "This browser did not let kith read your location. Use “I'm at …” below instead.",
    2: "This device could not tell where it is. Use “I'm at …” below instead.",
    3: "Finding your location took too long. Try again, or use “I'm at …” below.",
  };

  function initGeolocation() {
    const box = document.querySelector(".geolocate");
    const button = document.getElementById("use-device-location");
    const form = document.getElementById("device-location");
    const status = document.getElementById("geolocate-status");
    if (!box || !button || !form || !status || !("geolocation" in navigator)) return;
    box.hidden = false; // without geolocation (or JavaScript) only "I'm at ..." shows
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = "Asking this device where it is …";
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          form.elements.lat.value = String(pos.coords.latitude);
          form.elements.lon.value = String(pos.coords.longitude);
          form.elements.accuracy_m.value = String(Math.round(pos.coords.accuracy || 0));
          status.textContent = "Saving …";
          form.requestSubmit();
        },
        function (err) {
          button.disabled = false;
          status.textContent = GEO_ERRORS[err.code] || "Your location is not available.";
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- the live inbox ------------------------------------------------------------

  function initInbox() {
    if (window.kithAlertStream) {
      window.kithAlertStream.close(); // the page it belonged to is gone
      window.kithAlertStream = null;
    }
    const list = document.getElementById("alert-list");
    const status = document.getElementById("live-status");
    if (!list || !window.EventSource || !window.htmx) return;

    function lastShown() {
      let last = Number(list.dataset.lastId || "0");
      list.querySelectorAll("[data-alert-id]").forEach(function (item) {
        last = Math.max(last, Number(item.dataset.alertId));
      });
      return last;
    }

    // One fetch at a time; events that arrive meanwhile ask for one more.
    let busy = false;
    let again = false;
    function fetchNew() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      const done = function () {
        busy = false;
        if (again) {
          again = false;
          fetchNew();
        }
      };
      htmx
        .ajax("GET", "/alerts/new?after=" + lastShown(), { target: list, swap: "beforeend" })
        .then(done, done);
    }

    const stream = new EventSource("/api/v1/alerts/stream?after=" + lastShown());
    window.kithAlertStream = stream;
    stream.addEventListener("alert", function (ev) {
      if (!list.isConnected) {
        stream.close();
        return;
      }
      if (document.getElementById("alert-" + ev.lastEventId)) return; // already shown
      fetchNew();
    });
    stream.addEventListener("open", function () {
      if (status) status.textContent = "Live: new alerts appear here as they happen.";
    });
    stream.addEventListener("error", function () {
      if (status) status.textContent = "Connection lost; reconnecting …";
    });
  }

  // --- forms -----------------------------------------------------------------------

  function initTimezone() {
    const button = document.getElementById("use-device-timezone");
    const input = document.getElementById("s-timezone");
    if (!button || !input || !window.Intl) return;
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === input.value) return;
    button.textContent = "Use this device's time zone (" + zone + ")";
    button.hidden = false;
    button.addEventListener("click", function () {
      input.value = zone;
      input.focus();
    });
  }

  function initActivity() {
    const select = document.getElementById("i-activity");
    const other = document.getElementById("i-other");
    if (!select || !other) return;
    // Typing something else means "something else", whatever the list showed.
    other.addEventListener("input", function () {
      if (other.value.trim()) select.value = "other";
    });
  }

  function init() {
    initMap();
    initGeolocation();
    initInbox();
    initTimezone();
    initActivity();
  }

  // On a first load htmx (deferred in the head) runs after this script: wait for it.
  // After a boosted swap the document is complete and everything is ready.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
