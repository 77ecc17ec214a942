'use strict';
// Loads the native engine: a local build (`npm run build`) first, else the prebuilt package for
// this platform from optionalDependencies (lib/platform.js tells glibc from musl as the napi-rs
// template does, and names the package to install when it is missing).
module.exports = require('./lib/platform').loadNative();
