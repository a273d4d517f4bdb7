// Package atomicfile replaces files so that a reader, or a later run after a crash
// or power loss, sees either the complete old contents or the complete new ones,
// never a mixture or a truncated file.
//
// Write creates a temporary file in the destination's directory (a rename is only
// atomic within one file system), fills it through a buffer, flushes it to stable
// storage with fsync, renames it over the destination and finally fsyncs the
// directory so that the rename itself is durable. Checkpoints, metrics and
// configuration files of a run are written this way so that an interrupted run
// loses nothing already saved.
//
// A process killed during Write may leave its temporary file behind; such files are
// named "." + base name + ".tmp-" + random digits and can be removed at any time
// when no writer is running.
package atomicfile
