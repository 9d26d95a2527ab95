import type { NewNotification } from '../notifications/inbox.ts';
import { formatMoney } from '../ledger/money.ts';
import type { Missing, Notice } from './machine.ts';
import type { QualityRules } from './settings.ts';

/** One line per missing thing, in words the user can act on. */
export function describeMissing(missing: Missing, rules: QualityRules, cooldownUntil: number | null = null): string {
  switch (missing) {
    case 'min_photos':
      return `add photos: at least ${rules.minPhotos}`;
    case 'min_description':
      return `write a longer description: at least ${rules.minDescription} characters`;
    case 'require_price':
      return 'set a price';
    case 'link_account':
      return 'link your Yandex account, where the points are paid';
    case 'cooldown':
      return cooldownUntil === null ? 'wait for the next bonus period' : `wait until ${new Date(cooldownUntil).toISOString()}: one bonus per period`;
    case 'publish_listing':
      return 'publish a listing that meets the rules';
  }
}

const day = (at: number) => new Date(at).toISOString();

/** The push and mail texts of a bonus notice (the inbox keeps both). */
export function renderNotice(userId: string, notice: Notice, rules: QualityRules): NewNotification {
  const base = { userId, kind: notice.kind };
  switch (notice.kind) {
    case 'bonus_granted': {
      const points = formatMoney(notice.points);
      return {
        ...base,
        title: `You got ${points} bonus points`,
        body: `${points} points for your listing ${notice.listingId} are in your account.`,
        mailSubject: `${points} bonus points are yours`,
        mailBody: `Thank you for publishing listing ${notice.listingId}. We have paid ${points} bonus points into your account.`,
        data: { listing_id: notice.listingId, points },
      };
    }
    case 'bonus_pending': {
      const points = formatMoney(notice.points);
      const todo = notice.missing.map((m) => describeMissing(m, rules));
      const unless = todo.length > 0 ? ` Before then: ${todo.join('; ')}.` : '';
      return {
        ...base,
        title: `${points} bonus points are on their way`,
        body: `Listing ${notice.listingId} earns ${points} points after a check that ends ${day(notice.grantAt)}.${unless}`,
        mailSubject: `Your listing earns ${points} bonus points`,
        mailBody: `Listing ${notice.listingId} qualifies for ${points} bonus points. They are paid after moderation has had time to check it, at ${day(notice.grantAt)}.${unless}`,
        data: { listing_id: notice.listingId, points, grant_at: day(notice.grantAt), missing: notice.missing },
      };
    }
    case 'bonus_missing': {
      const todo = notice.missing.map((m) => describeMissing(m, rules, notice.cooldownUntil));
      return {
        ...base,
        title: 'No bonus points yet',
        body: `Listing ${notice.listingId} does not earn points yet: ${todo.join('; ')}.`,
        mailSubject: 'How to get bonus points for your listing',
        mailBody: `Listing ${notice.listingId} does not earn bonus points yet. What is missing:\n${todo.map((t) => `- ${t}`).join('\n')}`,
        data: {
          listing_id: notice.listingId,
          missing: notice.missing,
          ...(notice.cooldownUntil !== null ? { cooldown_until: day(notice.cooldownUntil) } : {}),
        },
      };
    }
    case 'bonus_waiting_link': {
      const points = formatMoney(notice.points);
      return {
        ...base,
        title: `Link your account to get ${points} points`,
        body: `Your ${points} points for listing ${notice.listingId} are ready. Link your Yandex account to receive them.`,
        mailSubject: `${points} bonus points are waiting for you`,
        mailBody: `Your ${points} bonus points for listing ${notice.listingId} are ready, but there is no Yandex account to pay them into. Link one and we pay them at once.`,
        data: { listing_id: notice.listingId, points, missing: ['link_account'] },
      };
    }
    case 'bonus_cancelled':
      return {
        ...base,
        title: 'Bonus cancelled',
        body: `Listing ${notice.listingId} was removed by moderation, so it earns no points.`,
        mailSubject: 'Your listing earns no bonus points',
        mailBody: `Listing ${notice.listingId} was removed by moderation, so the bonus for it is cancelled. A listing that meets the rules can still earn one.`,
        data: { listing_id: notice.listingId, reason: notice.reason },
      };
  }
}
