export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" class="logo-mark">
      <defs>
        <linearGradient id="cosmiv-logo-g" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stop-color="#a78bfa" />
          <stop offset="1" stop-color="#22d3ee" />
        </linearGradient>
      </defs>
      <circle cx="32" cy="32" r="12" fill="url(#cosmiv-logo-g)" />
      <ellipse
        cx="32"
        cy="32"
        rx="27"
        ry="10"
        fill="none"
        stroke="url(#cosmiv-logo-g)"
        stroke-width="4.5"
        transform="rotate(-25 32 32)"
      />
    </svg>
  );
}
