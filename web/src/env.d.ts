// esbuild bundles the CSS a module imports into the page stylesheet.
declare module "*.css";
