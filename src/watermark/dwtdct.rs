//! Detector for invisible-watermark's `dwtDct` mark, as Stable Diffusion and
//! SDXL embed it (decoded from the published algorithm).
//!
//! Not built yet: see the watermark issue.
