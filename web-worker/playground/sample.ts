/** The built-in sample: a deterministic, fully opaque scene with what filters show off: smooth
 * gradients, hard edges at every angle, fine stripes, text and a little noise. */
export function drawSample(width = 640, height = 420): ImageData {
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  const sky = g.createLinearGradient(0, 0, 0, height);
  sky.addColorStop(0, '#2b5fb8');
  sky.addColorStop(0.6, '#f3b562');
  sky.addColorStop(1, '#f06d4f');
  g.fillStyle = sky;
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#fff3c4';
  g.beginPath();
  g.arc(width * 0.75, height * 0.3, 48, 0, Math.PI * 2);
  g.fill();
  const mountains: [string, number[]][] = [
    ['#3b3355', [0, 300, 120, 180, 230, 260, 340, 150, 470, 280, 560, 210, 640, 290]],
    ['#1f1b2e', [0, 360, 90, 300, 200, 350, 320, 270, 420, 340, 540, 300, 640, 350]],
  ];
  for (const [colour, points] of mountains) {
    g.fillStyle = colour;
    g.beginPath();
    g.moveTo(0, height);
    for (let i = 0; i < points.length; i += 2) g.lineTo((points[i] * width) / 640, (points[i + 1] * height) / 420);
    g.lineTo(width, height);
    g.fill();
  }
  // A checkerboard and stripes of rising frequency: edges and aliasing for the filters to act on.
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      g.fillStyle = (x + y) % 2 ? '#111' : '#eee';
      g.fillRect(24 + x * 12, 24 + y * 12, 12, 12);
    }
  }
  for (let i = 0; i < 40; i++) {
    g.fillStyle = i % 2 ? '#1b998b' : '#fffbf0';
    g.fillRect(150 + (i * (i + 8)) / 8, 24, Math.max(1, 6 - i / 8), 96);
  }
  g.fillStyle = '#ffffff';
  g.font = 'bold 56px sans-serif';
  g.fillText('convkit', 36, height - 28);
  const image = g.getImageData(0, 0, width, height);
  let seed = 2024;
  for (let i = 0; i < image.data.length; i += 4) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const n = ((seed >>> 24) % 17) - 8;
    for (let c = 0; c < 3; c++) image.data[i + c] += n;
    image.data[i + 3] = 255;
  }
  return image;
}
