-- Isso's schema (isso/db/threads.py, comments.py, preferences) with sample rows.
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
INSERT INTO "comments" VALUES(1,1,NULL,1400000000.0,NULL,1,'192.0.2.0','Hello **Isso**, see <https://isso-comments.de/>.','Ann','ann@example.net','https://ann.example',3,0,X'00',0);
INSERT INTO "comments" VALUES(1,2,1,1400000100.5,1400000200.0,1,'192.0.2.0','A *reply* with <script>alert(1)</script> and [a link](javascript:alert(1)).',NULL,NULL,NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(1,3,NULL,1400000300.0,NULL,2,'192.0.2.0','Waiting for a moderator.','Walt',NULL,NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(1,4,NULL,1400000400.0,NULL,4,'192.0.2.0','',NULL,NULL,NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(1,5,4,1400000500.0,NULL,1,'192.0.2.0','Reply under a deleted comment.','Bob',NULL,'https://bob.example',0,0,X'00',0);
INSERT INTO "comments" VALUES(2,6,NULL,1400000600.0,NULL,1,'192.0.2.0','On the second post.','Ann','ann@example.net',NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(2,7,99,1400000700.0,NULL,1,'192.0.2.0','Parent 99 does not exist.','Carol',NULL,NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(2,8,NULL,1400000800.0,NULL,3,'192.0.2.0','An unknown mode.','Eve',NULL,NULL,0,0,X'00',0);
INSERT INTO "comments" VALUES(5,9,NULL,1400000900.0,NULL,1,'192.0.2.0','Its thread is gone.','Dan',NULL,NULL,0,0,X'00',0);
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO "preferences" VALUES('session-key','0123456789abcdef');
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
INSERT INTO "threads" VALUES(1,'/posts/first/','First post');
INSERT INTO "threads" VALUES(2,'/posts/second/',NULL);
