// Opens the PDF named by ?src= with PDF.js in range-loading mode and renders its first
// and last page. The outcome (or the error) is left in window.pdfOutcome for the test.
import * as pdfjs from "/pdfjs/legacy/build/pdf.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = "/pdfjs/legacy/build/pdf.worker.mjs";

const params = new URLSearchParams(location.search);
const source = params.get("src");
const SCALE = 0.6;

document.getElementById("source").textContent = source;

async function renderPage(pdf, number, id) {
  const page = await pdf.getPage(number);
  const viewport = page.getViewport({ scale: SCALE });
  const canvas = document.getElementById(id);
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  await page.render({ canvas, viewport }).promise;
  const content = await page.getTextContent();
  const text = content.items.map((item) => item.str).join(" ");
  document.getElementById(`${id}-caption`).textContent = `page ${number} of ${pdf.numPages}`;
  return { number, width: canvas.width, height: canvas.height, text, inkedPixels: inkedPixels(canvas) };
}

// Counts pixels that are not white: a page whose content never arrived renders blank.
function inkedPixels(canvas) {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let inked = 0;
  for (let index = 0; index < data.length; index += 4) {
    if (data[index] < 240 || data[index + 1] < 240 || data[index + 2] < 240) {
      inked += 1;
    }
  }
  return inked;
}

async function check() {
  const loadingTask = pdfjs.getDocument({
    url: source,
    // Fetch only the byte ranges that rendering needs, in chunks of this many bytes,
    // instead of streaming the whole file or prefetching it in the background.
    rangeChunkSize: Number(params.get("chunk")),
    disableAutoFetch: true,
    disableStream: true,
    standardFontDataUrl: "/pdfjs/standard_fonts/",
  });
  const pdf = await loadingTask.promise;
  const first = await renderPage(pdf, 1, "first");
  const last = await renderPage(pdf, pdf.numPages, "last");
  document.getElementById("status").textContent = `rendered ${source}`;
  return { ok: true, numPages: pdf.numPages, pages: [first, last] };
}

window.pdfOutcome = undefined;
check().then(
  (outcome) => { window.pdfOutcome = outcome; },
  (error) => {
    document.getElementById("status").textContent = `failed: ${error}`;
    window.pdfOutcome = { ok: false, error: `${error.name}: ${error.message}` };
  },
);
