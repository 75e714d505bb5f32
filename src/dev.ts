/**
 * True in the default build; false in the production build (`dist/prod/`), which bundlers pick
 * through the `production` export condition (Vite and webpack set it for production builds).
 * Text that only explains (error messages, log lines, a failed value's path) is written under
 * `DEV`, so a production bundle carries the codes and not the prose. Codes never depend on it.
 * Rollup folds the constant, and the minifier drops the dead branch.
 */
export const DEV: boolean = true;
