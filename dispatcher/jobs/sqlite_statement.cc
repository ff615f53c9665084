#include "dispatcher/jobs/sqlite_statement.h"

#include <sqlite3.h>

namespace tsdsr::dispatcher {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  std::string message = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_CONSTRAINT:
      return Status::Conflict(message);
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return Status::InsufficientStorage(message);
    default:
      return Status::Internal(message);
  }
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v2(db, sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr);
  status_ = SqliteStatus(db, rc, "preparing a job database statement");
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::Bind(int index, std::int64_t value) {
  if (status_.ok()) status_ = SqliteStatus(db_, sqlite3_bind_int64(stmt_, index, value), "binding a value");
}

void SqliteStatement::Bind(int index, std::string_view text, bool empty_is_null) {
  if (!status_.ok()) return;
  // A null data pointer would bind NULL: an empty view binds the empty text unless asked otherwise.
  const char* data = text.data() != nullptr ? text.data() : "";
  const int rc = empty_is_null && text.empty()
                     ? sqlite3_bind_null(stmt_, index)
                     : sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT);
  status_ = SqliteStatus(db_, rc, "binding a value");
}

bool SqliteStatement::Step() {
  if (!status_.ok()) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  status_ = SqliteStatus(db_, rc, "job database");
  return false;
}

Status SqliteStatement::Run() {
  while (Step()) {
  }
  return status_;
}

std::int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

}  // namespace tsdsr::dispatcher
