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
}

export interface Challenge extends ChallengeInput {
  id: number;
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
  totalScore: number;
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
