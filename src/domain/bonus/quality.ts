import type { QualityRules } from './settings.ts';

/** A listing rule from the bonus config; its key is also the "missing" code users see. */
export type Rule = 'min_photos' | 'min_description' | 'require_price';

export interface ListingContent {
  title: string;
  description: string;
  photosCount: number;
  price: number | null;
}

/** Characters a reader sees: code points of the trimmed text (so "ё" is one, padding is none). */
export function descriptionLength(text: string): number {
  return [...text.trim()].length;
}

/** The rules this content fails, in config order; empty means the listing is good enough. */
export function failedRules(content: ListingContent, rules: QualityRules): Rule[] {
  const failed: Rule[] = [];
  if (content.photosCount < rules.minPhotos) failed.push('min_photos');
  if (descriptionLength(content.description) < rules.minDescription) failed.push('min_description');
  if (rules.requirePrice && !(content.price !== null && content.price > 0)) failed.push('require_price');
  return failed;
}
