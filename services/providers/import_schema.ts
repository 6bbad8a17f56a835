/**
 * The body of an import request: `POST /v1/reports` with a `source` naming a
 * provider. Plain zod with `.meta()`, so the same schema validates the request
 * and documents it in the OpenAPI document.
 *
 * @module
 */
import { z } from "zod";
import { ReportNameSchema } from "../series/upload_schema.ts";

/** Symbols as market-data providers spell them: letters, digits and `.^=_-`. */
export const SYMBOL_PATTERN = /^[A-Za-z0-9.^=_-]{1,32}$/;

/** A Stooq import: a symbol, an inclusive date range and an interval. */
export const StooqSourceSchema = z.object({
  provider: z.literal("stooq"),
  symbol: z.string().regex(SYMBOL_PATTERN, "1 to 32 letters, digits or .^=_-").meta({
    example: "avgo.us",
  }),
  start: z.iso.date().meta({
    description: "First day, inclusive (YYYY-MM-DD)",
    example: "2020-01-10",
  }),
  end: z.iso.date().meta({
    description: "Last day, inclusive, not after today",
    example: "2020-02-10",
  }),
  interval: z.enum(["d", "w", "m"]).default("d").meta({
    description: "Daily, weekly or monthly bars",
  }),
}).meta({ id: "StooqSource" });

/** A CSV fetched from an allow-listed https URL. */
export const UrlSourceSchema = z.object({
  provider: z.literal("url"),
  url: z.url({ protocol: /^https?$/ }).max(2048).meta({
    description: "An https URL whose host is in REPORTD_FETCH_ALLOW_HOSTS",
    example: "https://data.example.org/series.csv",
  }),
}).meta({ id: "UrlSource" });

/** Any provider's source. */
export const ImportSourceSchema = z.discriminatedUnion("provider", [
  StooqSourceSchema,
  UrlSourceSchema,
]);

/** `POST /v1/reports` body that imports from a provider instead of uploading. */
export const ImportRequestSchema = z.object({
  name: ReportNameSchema.optional(),
  source: ImportSourceSchema,
}).meta({
  id: "ImportRequest",
  example: {
    name: "AVGO daily",
    source: {
      provider: "stooq",
      symbol: "avgo.us",
      start: "2020-01-10",
      end: "2020-02-10",
      interval: "d",
    },
  },
});

/** A validated import source. */
export type ImportSource = z.infer<typeof ImportSourceSchema>;

/** A validated import request. */
export type ImportRequest = z.infer<typeof ImportRequestSchema>;
