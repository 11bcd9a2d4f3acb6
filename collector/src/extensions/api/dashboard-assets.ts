/**
 * The dashboard's built files (file name → base64). This stub has none; `npm run build`
 * (scripts/build-dashboard.mjs) writes the compiled module over it with the files esbuild produced, so
 * they travel inside the package and the single executable alike.
 */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> | undefined = undefined;
