// The dashboard's map: Leaflet (served from vendor/, loaded only when a card has locations and the
// browser is online) with the tiles the server names in <meta name="map-tiles">. When there is no
// tile URL, the browser is offline or the tiles do not load, the card keeps its list with map links.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") ?? "";
let leaflet;

async function loadLeaflet() {
  if (!leaflet) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "vendor/leaflet.css";
    document.head.append(css);
    leaflet = import("./vendor/leaflet.esm.js");
  }
  return leaflet;
}

/** A map link that works without this page's map. */
export function mapLink(location) {
  const { latitude: lat, longitude: lon } = location;
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}

export function mapWanted() {
  return meta("map-tiles") !== "" && navigator.onLine;
}

/**
 * One map per card, kept across refreshes: `update(items)` moves the markers; `onFailure` is called
 * when no tile could be loaded (offline behind a captive network, blocked tiles).
 */
export class CardMap {
  constructor(container, onFailure) {
    this.container = container;
    this.onFailure = onFailure;
    this.markers = new Map();
    this.fitted = false;
  }

  async update(items) {
    const L = await loadLeaflet();
    if (!this.map) {
      this.map = L.map(this.container, { scrollWheelZoom: false });
      let loaded = 0;
      const layer = L.tileLayer(meta("map-tiles"), {
        maxZoom: 19,
        attribution: meta("map-attribution"),
        // The tile provider's policy asks for the page's origin.
        referrerPolicy: "strict-origin",
      });
      layer.on("tileload", () => {
        loaded += 1;
        this.container.dataset.tiles = "loaded";
      });
      layer.on("tileerror", () => {
        if (loaded === 0 && this.container.dataset.tiles !== "failed") {
          this.container.dataset.tiles = "failed";
          this.onFailure();
        }
      });
      layer.addTo(this.map);
      this.layer = L.layerGroup().addTo(this.map);
    }
    this.layer.clearLayers();
    const points = [];
    for (const item of items) {
      const { latitude, longitude, accuracy } = item.location;
      if (accuracy)
        L.circle([latitude, longitude], { radius: accuracy, weight: 1, fillOpacity: 0.1 }).addTo(this.layer);
      L.circleMarker([latitude, longitude], { radius: 7, weight: 2, fillOpacity: 0.9 })
        .bindTooltip(item.title, { permanent: items.length <= 6, direction: "top" })
        .addTo(this.layer);
      points.push([latitude, longitude]);
    }
    if (!this.fitted && points.length > 0) {
      this.map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 15 });
      this.fitted = true;
    }
  }

  remove() {
    this.map?.remove();
  }
}
