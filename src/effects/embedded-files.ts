// The files harden ships with, as the single-file build carries them inside itself. Here (the compiled
// modules, run from a checkout or a package) there are none: profiles, templates and the catalogue are read
// from profiles/ on disk. scripts/build-bundle.js replaces this module in the bundle with the shipped files,
// the profiles already parsed and validated against the schema at build time.
import type { CatalogueRow } from '../core/flag-catalogue.js';
import type { ProfileDocument } from '../core/profile.js';

export interface EmbeddedFiles {
  /** The package version. */
  readonly version: string;
  /** The shipped profiles by name (`baseline`), parsed and validated. */
  readonly profiles: Readonly<Record<string, ProfileDocument>>;
  /** The templates by their name under profiles/ (`templates/audit-policy.yaml`). */
  readonly templates: Readonly<Record<string, string>>;
  /** The rows of profiles/flag-catalogue.tsv, parsed, without their notes and sources (empty here). */
  readonly flagCatalogue: readonly CatalogueRow[];
}

export const embeddedFiles: EmbeddedFiles | null = null;
