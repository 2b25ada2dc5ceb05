// Package browser takes screenshots of local files (SVG, HTML) with a
// headless Chromium, so that tests can check that what the renderers draw
// is what a reader's browser shows.
//
// Find looks for the browser; Screenshot runs it once per picture, as root
// as well as as a normal user (no sandbox), with every background network
// feature off and a fresh profile, and kills the whole process group when
// the context ends.
package browser
