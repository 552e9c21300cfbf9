// Compose the hub's subgraph SDL (hub.graphql, written by `hub sdl`) with the example
// provincial subgraph, the way a router's composition does, and print the supergraph.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const here = new URL(".", import.meta.url);
const subgraphs = [
  { name: "hub", url: "http://127.0.0.1:8000/graphql", file: process.argv[2] ?? "hub.graphql" },
  { name: "province", url: "http://127.0.0.1:4001/graphql", file: "province.graphql" },
].map(({ name, url, file }) => ({
  name,
  url,
  typeDefs: parse(readFileSync(new URL(file, here), "utf8")),
}));

const result = composeServices(subgraphs);
if (result.errors) {
  for (const e of result.errors) console.error(e.message);
  process.exit(1);
}
console.log(result.supergraphSdl);
console.error(`composed ${subgraphs.length} subgraphs: ${subgraphs.map((s) => s.name).join(", ")}`);
