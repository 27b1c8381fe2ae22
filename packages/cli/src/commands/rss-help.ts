// The usage and help text of `cascade rss` (spec.ts shows it; commands/rss.ts runs it).

export const RSS_USAGE =
  'rss [list] | rss add URL [--interval MIN] | rss remove ID | rss refresh [ID] | rss items ID | rss rules |\n' +
  '       rss rule add NAME [--must-contain WORDS] [--must-not-contain WORDS] [--regex] [--episode FILTER] [--smart]\n' +
  '                [--feed ID]... [--category C] [--save-path DIR] [--tag T]... [--paused] |\n' +
  '       rss rule edit ID [the same options; --no-regex, --no-smart, --no-paused, --feed all] |\n' +
  '       rss rule enable ID | rss rule disable ID | rss rule remove ID | rss rule preview ID |\n' +
  '       rss matches | rss settings [--interval MIN] [--max-items N]';

export const RSS_DETAILS = `Feeds (RSS 2.0, Atom) are read on a schedule (each feed's --interval, else the node's, 30 min by
default) and their items kept; a feed that fails says why in \`rss list\`. A rule takes the items whose
title matches it, adds them to the node (with its category, save path, tags, paused) and records them:
an item is never taken twice, also across restarts.
  --must-contain "1080p x265|720p"   words that must all appear (any order; * and ? wildcards);
                                     "|" separates alternatives. With --regex: one regular expression.
  --must-not-contain WORDS           reject titles with these (same forms)
  --episode "1x2;8-15;30-;"          qBittorrent's episode filter (season x episodes; N, N-M, N- open-ended);
                                     also S01E05, S01E05-S01E10, S01E05-, S02
  --smart                            take each episode once (a REPACK/PROPER once more)
  --feed ID                          read only these feeds (repeatable; default every feed)
The RSS reader runs in \`cascade serve\`; the routes are /api/rss/… (see the README).`;
