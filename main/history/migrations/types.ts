export interface Migration {
  /** The PRAGMA user_version after this migration. */
  version: number;
  name: string;
  /** SQL run in one transaction together with the version bump. */
  up: string;
}
