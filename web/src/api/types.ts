/** Shapes of the server's JSON, as PRODUCT.md §3 and the server's OpenAPI document define them. */

export interface User {
  id: number;
  nickname: string;
  profileImage: string | null;
  bio: string;
  /** RFC 3339 instant. */
  createdAt: string;
}

export type UserSummary = Pick<User, 'id' | 'nickname' | 'profileImage'>;

/** A profile with what the user's all-time score amounts to (`GET /api/users/{id}`, `/api/me`). */
export interface Profile extends User {
  /** All-time score. */
  totalScore: number;
  /** 1 at score 0 (docs/api-additions.md: level L starts at 10·(L−1)² + 90·(L−1)). */
  level: number;
  /** The all-time score where the next level starts. */
  nextLevelScore: number;
  /** Points earned on each of the last 7 days, oldest first (today last). */
  recentScores: number[];
}

export interface AuthProviders {
  kakao: boolean;
  devLogin: boolean;
}

export interface LoginResponse {
  token: string;
  user: User;
}

export interface ProfileUpdate {
  nickname?: string;
  bio?: string;
  /** `null` removes the image. */
  profileImage?: string | null;
}

export const CATEGORIES = ['STUDY', 'WORKOUT', 'MORNING', 'READING', 'HOBBY', 'ETC'] as const;
export type Category = (typeof CATEGORIES)[number];

export const STATUSES = ['RECRUITING', 'IN_PROGRESS', 'ENDED'] as const;
export type ChallengeStatus = (typeof STATUSES)[number];

export const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Day = (typeof DAYS)[number];

export const SORTS = ['new', 'popular', 'startingSoon'] as const;
export type ChallengeSort = (typeof SORTS)[number];

/** What the create form sends; PATCH takes any subset of it. */
export interface ChallengeInput {
  title: string;
  description: string;
  category: Category;
  thumbnail: string | null;
  capacity: number;
  /** `YYYY-MM-DD`, inclusive. */
  startDate: string;
  endDate: string;
  daysOfWeek: Day[];
  /** `HH:MM` local time in `timezone`. */
  sessionStart: string;
  sessionEnd: string;
  timezone: string;
  minMinutes: number;
  successRate: number;
  /** 0–5 tags; the server strips one leading `#`. */
  tags: string[];
}

export interface Challenge extends ChallengeInput {
  id: number;
  /** The creator's notice to participants; `null` when there is none. */
  notice: string | null;
  /** When the notice was last set or cleared (RFC 3339); `null` if never. */
  noticeUpdatedAt: string | null;
  /** How many users have it on their wish list (찜). */
  wishCount: number;
  /** Whether the caller has it on their wish list (`false` when signed out). */
  wished: boolean;
  /** What `sort=popular` orders by: 2 × participantCount + wishCount. */
  popularity: number;
  participantCount: number;
  status: ChallengeStatus;
  creator: UserSummary;
  /** Whether the signed-in caller holds a place. */
  joined: boolean;
  createdAt: string;
}

export interface ChallengePage {
  items: Challenge[];
  nextCursor: string | null;
}

export interface ChallengeFilters {
  q: string;
  /** A tag without `#`; empty: no tag filter. */
  tag: string;
  category: Category | '';
  status: ChallengeStatus | '';
  sort: ChallengeSort;
}

export type ParticipantStatus = 'ACTIVE' | 'COMPLETED' | 'FAILED';

export interface Participant {
  user: UserSummary;
  status: ParticipantStatus;
  joinedAt: string;
  achievedSessions: number;
  scheduledSessions: number;
}

export const MY_CHALLENGE_STATES = ['active', 'completed', 'created'] as const;
export type MyChallengeState = (typeof MY_CHALLENGE_STATES)[number];

export interface Upload {
  key: string;
  url: string;
}

export const RANKING_PERIODS = ['all', 'week', 'month'] as const;
export type RankingPeriod = (typeof RANKING_PERIODS)[number];

export interface RankingEntry {
  rank: number;
  userId: number;
  nickname: string;
  profileImage: string | null;
  completedCount: number;
  /** The board's period score. */
  totalScore: number;
  /** From the all-time score, whatever the period (absent with `fields=basic`). */
  level?: number;
  nextLevelScore?: number;
  /** Points on each of the last 7 days, today last. */
  recentScores?: number[];
}

export interface Rankings {
  period: RankingPeriod;
  entries: RankingEntry[];
  me: RankingEntry | null;
}

export interface UserStats {
  totalChallenges: number;
  completedChallenges: number;
  /** Percent with one decimal. */
  completionRate: number;
  currentStreak: number;
  longestStreak: number;
}

export interface DailyStat {
  date: string;
  achievedSessions: number;
  scheduledSessions: number;
  minutes: number;
}

export interface PopularTag {
  tag: string;
  /** Challenges that have not ended carrying it. */
  count: number;
}

export interface ChatMessage {
  /** Increases within the room, in the order messages were stored. */
  id: number;
  room: number;
  userId: number;
  nickname: string;
  /** Empty when `deleted`. */
  body: string;
  /** RFC 3339 instant. */
  createdAt: string;
  /** A host deleted it (docs/moderation.md); absent when not. */
  deleted?: boolean;
  /** Show its links as plain text (the author joined less than a day before); absent when not. */
  plainLinks?: boolean;
}

/** A page of a room's chat history, oldest first. */
export interface MessagePage {
  items: ChatMessage[];
  /** Pass as `before` for the page before this one; null or absent: this was the oldest. */
  nextBefore?: number | null;
}

export interface IceServersResponse {
  iceServers: { urls: string | string[]; username?: string | null; credential?: string | null }[];
  ttlSeconds: number;
}
