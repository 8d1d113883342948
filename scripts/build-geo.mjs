// Builds the map data the ZIP page needs from npm packages (run by scripts/vendor-assets.sh):
//   public/vendor/geo/us-states.js   US state outlines as GeoJSON (us-atlas, Albers USA with Alaska
//                                    and Hawaii inset), assigned to window.MAVERICK_US_STATES
//   public/vendor/geo/zip-places.csv every ZIP of the `zipcodes` package with city, state,
//                                    latitude/longitude and its point on that same map
// Both use one planar frame (d3-geo's geoAlbersUsa at the scale us-atlas was projected with), with
// y flipped so ECharts, which treats y as latitude, draws north up. The server reads the CSV and
// sends the browser only the points of assigned ZIPs.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { feature } from "topojson-client";
import { geoAlbersUsa } from "d3-geo";

const require = createRequire(import.meta.url);
const out = process.argv[2] ?? "public/vendor/geo";
mkdirSync(out, { recursive: true });

const round = (v) => Math.round(v * 10) / 10;
const flip = ([x, y]) => [round(x), round(-y)];
const mapRings = (coords, depth) => (depth === 0 ? flip(coords) : coords.map((c) => mapRings(c, depth - 1)));

const topo = JSON.parse(readFileSync("node_modules/us-atlas/states-albers-10m.json", "utf8"));
const states = feature(topo, topo.objects.states);
for (const f of states.features) {
  const depth = f.geometry.type === "MultiPolygon" ? 3 : 2;
  f.geometry.coordinates = mapRings(f.geometry.coordinates, depth);
  f.properties = { name: f.properties.name };
}
writeFileSync(`${out}/us-states.js`, `window.MAVERICK_US_STATES=${JSON.stringify(states)};\n`);

// The projection us-atlas used for its *-albers-10m files (see its README).
const project = geoAlbersUsa().scale(1300).translate([487.5, 305]);
const { codes } = require(`${process.cwd()}/node_modules/zipcodes/lib/codes.js`);
const esc = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const lines = ["zip,state,city,latitude,longitude,map_x,map_y"];
let onMap = 0;
for (const zip of Object.keys(codes).sort()) {
  const c = codes[zip];
  const p = project([c.longitude, c.latitude]);
  const [x, y] = p ? flip(p) : ["", ""];
  if (p) onMap++;
  lines.push([zip, c.state, esc(c.city), c.latitude, c.longitude, x, y].join(","));
}
writeFileSync(`${out}/zip-places.csv`, lines.join("\n") + "\n");
for (const lic of ["us-atlas", "zipcodes", "d3-geo", "topojson-client"]) {
  writeFileSync(`${out}/${lic}.LICENSE.txt`, readFileSync(`node_modules/${lic}/LICENSE`, "utf8"));
}
console.log(`geo: ${states.features.length} states, ${lines.length - 1} ZIPs (${onMap} on the map) → ${out}`);
