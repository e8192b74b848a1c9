package bootflags

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
)

// LogLevels is MirageOS's -l setting: a default level and levels per
// source, written "*:info,tcp:debug" (or just "debug").
type LogLevels struct {
	Default slog.Level
	Sources map[string]slog.Level
}

// Level returns the level for messages of source.
func (l *LogLevels) Level(source string) slog.Level {
	if lv, ok := l.Sources[source]; ok {
		return lv
	}
	return l.Default
}

// RegisterLogs defines -l on fs, defaulting to info for every source.
func RegisterLogs(fs *flag.FlagSet) *LogLevels {
	l := &LogLevels{Default: slog.LevelInfo, Sources: map[string]slog.Level{}}
	fs.Func("l", "log levels: LEVEL or SOURCE:LEVEL,... with * for every source (debug, info, warning, error)", l.set)
	return l
}

func (l *LogLevels) set(s string) error {
	for _, part := range strings.Split(s, ",") {
		source, level, found := strings.Cut(strings.TrimSpace(part), ":")
		if !found {
			source, level = "*", source
		}
		lv, err := parseLevel(level)
		if err != nil {
			return err
		}
		if source == "*" {
			l.Default = lv
		} else if source == "" {
			return fmt.Errorf("empty source in %q", part)
		} else {
			l.Sources[source] = lv
		}
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "app":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "quiet":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warning, error or quiet)", s)
}
