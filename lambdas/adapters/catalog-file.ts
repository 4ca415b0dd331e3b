/** Reads and writes catalog files. The bundled catalog is `data/catalog.json`. */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseCatalog } from "../core/catalog/catalog-schema.ts";
import type { Catalog } from "../core/catalog/types.ts";

export const BUNDLED_CATALOG_PATH = fileURLToPath(new URL("../../data/catalog.json", import.meta.url));

export function loadCatalog(path: string = BUNDLED_CATALOG_PATH): Catalog {
  return parseCatalog(JSON.parse(readFileSync(path, "utf8")));
}

/** Writes atomically (temp file + rename) so a crash never leaves a half-written catalog. */
export function saveCatalog(catalog: Catalog, path: string = BUNDLED_CATALOG_PATH): void {
  parseCatalog(catalog);
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(catalog, null, 2)}\n`);
  renameSync(temp, path);
}
