# The per-slot counting bench/traffic.ts times uplift's reader against: transfers, bytes and
# distinct accounts per 15-minute slot of the week (slot 0 = Monday 00:00), from the ctime fields
# of an xferlog line taken as UTC (awk has no time zones). Prints "slot transfers bytes accounts".
BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " "); for (i = 1; i <= 12; i++) mon[m[i]] = i }
{
  split($4, t, ":"); y = $5; mo = mon[$2]; d = $3
  yy = mo <= 2 ? y - 1 : y; era = int(yy / 400); yoe = yy - era * 400
  doy = int((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1
  days = era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
  abs = days * 96 + t[1] * 4 + int(t[2] / 15)
  slot = (abs - 384) % 672
  n[slot]++; b[slot] += $8
  k = abs " " $14
  if (!(k in seen)) { seen[k] = 1; a[slot]++ }
}
END { for (s = 0; s < 672; s++) printf "%d %d %.0f %d\n", s, n[s], b[s], a[s] }
