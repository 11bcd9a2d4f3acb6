/** Kept in step with package.json by hand (one place, checked by a unit test). */
export const PACKAGE_NAME = '@tributary/instrumentation';
export const PACKAGE_VERSION = '0.1.0';
