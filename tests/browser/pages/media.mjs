// Plays the media named by ?src= in an <audio> element. The test drives seeking through
// the element itself; this page only shows where playback is, for the screenshot.
const source = new URLSearchParams(location.search).get("src");
const player = document.getElementById("player");
const position = document.getElementById("position");

document.getElementById("source").textContent = source;
player.src = source;

// A click is a user activation, which Chromium's autoplay policy requires before play().
document.getElementById("play").addEventListener("click", () => {
  player.play().catch((error) => {
    position.textContent = `play() failed: ${error.name}: ${error.message}`;
  });
});

player.addEventListener("timeupdate", () => {
  position.textContent =
    `position ${player.currentTime.toFixed(2)} s of ${player.duration.toFixed(2)} s` +
    (player.seeking ? " (seeking)" : "");
});
player.addEventListener("error", () => {
  position.textContent = `media error ${player.error.code}: ${player.error.message}`;
});
