/** Lab image builder: cached Debian 12 rootfs trees that lab hosts boot from. */
export { ensureBaseImage, DEFAULT_IMAGE_CACHE_DIR } from "./ensureBaseImage";
export type { BaseImage, EnsureBaseImageOptions } from "./ensureBaseImage";
export { LAB_BASE_PACKAGES, IMAGE_BUILDER_VERSION, IMAGE_SUITE, imageCacheKey, imagePackageSet } from "./imagePackages";
